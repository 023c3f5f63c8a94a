"""Measure a recipe's render and step times on this machine and estimate its full wall time.

    python tools/time_recipe.py --recipe tabletop-tiny-v2 --scenes 64 --steps 30 --threads 1

Renders `--scenes` of the recipe's scenes (and 16 held-out ones) into a temporary directory, runs
`--steps` optimizer steps of the recipe's model and batch shape (the first two are warm-up and not
counted), one periodic evaluation, and prints medians and the estimate as JSON. Medians, not
means: the machine is shared. Wall time depends on what else runs; the process's CPU time per
step (one thread) is what an otherwise idle core would take, so the estimate is given for both.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="tabletop-tiny-v2")
    ap.add_argument("--scenes", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None, help="also write the result here")
    args = ap.parse_args()

    import torch

    from vlm_ros.models.processor import ImageProcessor
    from vlm_ros.training.loop import Trainer
    from vlm_ros.training.recipes import get_recipe
    from vlm_ros.training.scenes import SceneRenderer, save_shard

    torch.set_num_threads(args.threads)
    recipe = get_recipe(args.recipe)
    root = Path(tempfile.mkdtemp(prefix="time_recipe_"))
    processor = ImageProcessor(recipe.processor)
    renderer = SceneRenderer(processor, 320, 240, randomization=recipe.randomization)
    render_s, render_cpu, scenes = [], [], []
    for seed in range(recipe.train_seed, recipe.train_seed + args.scenes + 16):
        t0, c0 = time.perf_counter(), time.process_time()
        scenes.append(renderer.render(seed))
        render_s.append(time.perf_counter() - t0)
        render_cpu.append(time.process_time() - c0)
    (root / "data").mkdir()
    (root / "val").mkdir()
    (root / "data" / "locations.json").write_text(json.dumps(renderer.location_pixels()))
    renderer.close()
    save_shard(root / "data" / "scenes_0000000.npz", scenes[:args.scenes])
    save_shard(root / "val" / "scenes_0000000.npz", scenes[args.scenes:])
    cfg = dataclasses.replace(recipe.train, data_dir=str(root / "data"), val_dir=str(root / "val"),
                              out_dir=str(root / "run"), threads=args.threads, device=args.device)
    trainer = Trainer(cfg, log=lambda *_: None, processor_config=recipe.processor, recipe=recipe.fingerprint())
    trainer.model.train()
    step_s, step_cpu = [], []
    for _ in range(args.steps + 2):
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.train_step()
        step_s.append(time.perf_counter() - t0)
        step_cpu.append(time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.evaluate()
    eval_s, eval_cpu = time.perf_counter() - t0, time.process_time() - c0
    step, scene = statistics.median(step_s[2:]), statistics.median(render_s)
    evals = cfg.steps // cfg.eval_every
    # the recipe evaluates val_examples / 8 held-out scenes; this run has fewer
    eval_scale = min(cfg.val_examples // 8, recipe.val_scenes) / len(trainer._val[0])
    eval_s, eval_cpu = eval_s * eval_scale, eval_cpu * eval_scale
    n_scenes = recipe.train_scenes + recipe.val_scenes

    def estimate(step: float, scene: float, evaluation: float) -> dict:
        render_min, train_min = scene * n_scenes / 60, (step * cfg.steps + evaluation * evals) / 60
        return {"render": round(render_min, 1), "train": round(train_min, 1), "total": round(render_min + train_min, 1)}

    out = {"recipe": recipe.name, "fingerprint": recipe.fingerprint(), "threads": args.threads, "device": args.device,
           "steps_timed": args.steps, "step_s_median": round(step, 3),
           "step_s_p10_p90": [round(v, 3) for v in statistics.quantiles(step_s[2:], n=10)[::8]],
           "step_cpu_s_median": round(statistics.median(step_cpu[2:]), 3),
           "render_s_per_scene_median": round(scene, 3),
           "render_cpu_s_per_scene_median": round(statistics.median(render_cpu), 3),
           "eval_s": round(eval_s, 1), "eval_cpu_s": round(eval_cpu, 1),
           "estimate_min_wall_as_measured": estimate(step, scene, eval_s),
           "estimate_min_idle_core": estimate(statistics.median(step_cpu[2:]), statistics.median(render_cpu), eval_cpu),
           "recipe_steps": cfg.steps, "recipe_scenes": recipe.train_scenes + recipe.val_scenes}
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
