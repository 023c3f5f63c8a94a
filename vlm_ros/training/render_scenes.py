"""Render a range of scene seeds into npz shards: `python -m vlm_ros.training.render_scenes OUT START N`."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.training.scenes import SceneRenderer, save_shard


def _render_shard(renderer: SceneRenderer, seeds: range, path: Path, bar=None) -> Path:
    """One shard, written under a temporary name and renamed, so a shard on disk is always whole."""
    scenes = []
    for seed in seeds:
        scenes.append(renderer.render(seed))
        if bar is not None:
            bar.update(1)
    save_shard(path.with_suffix(".tmp.npz"), scenes)
    path.with_suffix(".tmp.npz").rename(path)
    return path


def _render_shard_in_worker(seeds: range, path: Path, processor: ImageProcessor, width: int, height: int,
                            randomization) -> Path:
    """A worker process's shard, with a renderer of its own (a PyBullet client is not shared)."""
    renderer = SceneRenderer(processor, width, height, randomization=randomization)
    try:
        return _render_shard(renderer, seeds, path)
    finally:
        renderer.close()


def render_range(out: Path, start: int, count: int, shard: int = 500, width: int = 320, height: int = 240,
                 processor: ImageProcessor | None = None, randomization=None, progress: bool = True,
                 workers: int = 1) -> list[Path]:
    """Render seeds start .. start + count - 1 into shards of `shard` scenes (existing shards are
    kept, so an interrupted render resumes). randomization: training.randomization.Randomization
    for domain-randomised cells, None for the trained cell. workers > 1 renders that many shards at
    once in separate processes (PyBullet renders on one core); a scene depends on its seed alone, so
    the shards are the same either way."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    processor = processor or ImageProcessor()
    renderer = SceneRenderer(processor, width, height, randomization=randomization)
    (out / "locations.json").write_text(json.dumps(renderer.location_pixels()))
    shards = [range(s0, min(s0 + shard, start + count)) for s0 in range(start, start + count, shard)]
    paths = [out / f"scenes_{seeds.start:07d}.npz" for seeds in shards]
    missing = [(seeds, path) for seeds, path in zip(shards, paths) if not path.exists()]
    t0 = time.time()
    bar = tqdm(total=count, initial=count - sum(len(seeds) for seeds, _ in missing), desc=f"render {out.name}",
               unit="scene", disable=not progress)
    if workers <= 1 or len(missing) <= 1:
        for seeds, path in missing:
            _render_shard(renderer, seeds, path, bar)
            bar.write(f"{path.name} {time.time() - t0:.0f}s")
        renderer.close()
    else:
        renderer.close()  # the workers render; one idle PyBullet client here is not needed
        # spawn, not fork: a forked PyBullet or torch state is not safe to reuse in a child
        with multiprocessing.get_context("spawn").Pool(min(workers, len(missing))) as pool:
            jobs = [pool.apply_async(_render_shard_in_worker, (seeds, path, processor, width, height, randomization))
                    for seeds, path in missing]
            for (seeds, path), job in zip(missing, jobs):
                job.get()
                bar.update(len(seeds))
                bar.write(f"{path.name} {time.time() - t0:.0f}s")
    bar.close()
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("start", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--crop", type=float, nargs=4, default=None)
    ap.add_argument("--workers", type=int, default=1, help="shards rendered at once, one process each")
    a = ap.parse_args()
    cfg = ImageProcessorConfig(crop=tuple(a.crop)) if a.crop else ImageProcessorConfig()
    render_range(a.out, a.start, a.count, processor=ImageProcessor(cfg), workers=a.workers)
