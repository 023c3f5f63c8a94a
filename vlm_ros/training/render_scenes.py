"""Render a range of scene seeds into npz shards: `python -m vlm_ros.training.render_scenes OUT START N`."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.training.scenes import SceneRenderer, save_shard


def render_range(out: Path, start: int, count: int, shard: int = 500, width: int = 320, height: int = 240,
                 processor: ImageProcessor | None = None, randomization=None, progress: bool = True) -> list[Path]:
    """Render seeds start .. start + count - 1 into shards of `shard` scenes (existing shards are
    kept, so an interrupted render resumes). randomization: training.randomization.Randomization
    for domain-randomised cells, None for the trained cell."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    processor = processor or ImageProcessor()
    renderer = SceneRenderer(processor, width, height, randomization=randomization)
    (out / "locations.json").write_text(json.dumps(renderer.location_pixels()))
    paths = []
    t0 = time.time()
    bar = tqdm(total=count, desc=f"render {out.name}", unit="scene", disable=not progress)
    for s0 in range(start, start + count, shard):
        path = out / f"scenes_{s0:07d}.npz"
        seeds = range(s0, min(s0 + shard, start + count))
        if not path.exists():
            scenes = []
            for seed in seeds:
                scenes.append(renderer.render(seed))
                bar.update(1)
            save_shard(path.with_suffix(".tmp.npz"), scenes)
            path.with_suffix(".tmp.npz").rename(path)
            bar.write(f"{path.name} {time.time() - t0:.0f}s")
        else:
            bar.update(len(seeds))
        paths.append(path)
    bar.close()
    renderer.close()
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("start", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--crop", type=float, nargs=4, default=None)
    a = ap.parse_args()
    cfg = ImageProcessorConfig(crop=tuple(a.crop)) if a.crop else ImageProcessorConfig()
    render_range(a.out, a.start, a.count, processor=ImageProcessor(cfg))
