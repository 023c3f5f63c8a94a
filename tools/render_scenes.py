"""Render the README's scene images into docs/scenes/ (deterministic: same seeds, same PNGs).

    .venv/bin/python tools/render_scenes.py [--out docs/scenes]

For each task: the scene as the grounder sees it, with the instruction and the oracle's
pick/place points drawn on; for put-block-in-bowl also the depth image and the scene
after the oracle plan ran.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from vlm_ros.sim.executor import Executor
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS

SEEDS = {"put-block-in-bowl": 1, "stack-blocks": 2, "put-all-color-in-bowl": 3,
         "place-at-location": 4, "refuse-missing": 5}


def caption(bgr: np.ndarray, text: str) -> np.ndarray:
    strip = np.full((36, bgr.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (8, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bgr, strip])


def annotate(rgb: np.ndarray, plan) -> np.ndarray:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    for i, step in enumerate(plan.steps):
        u, v = (int(round(c)) for c in step.pixel)
        cv2.circle(bgr, (u, v), 6, (255, 255, 255), 2, cv2.LINE_AA)
        cv2.putText(bgr, f"{i + 1}:{step.type.value}", (u + 8, v - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return bgr


def depth_image(depth: np.ndarray) -> np.ndarray:
    """Metric depth -> colour map, near = warm."""
    lo, hi = np.nanmin(depth), np.nanmax(depth)
    scaled = np.nan_to_num((hi - depth) / max(hi - lo, 1e-6) * 255.0).astype(np.uint8)
    return cv2.applyColorMap(scaled, cv2.COLORMAP_TURBO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/scenes"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with TabletopSim() as sim:
        executor = Executor(sim)
        for name, seed in SEEDS.items():
            episode = TASKS[name].sample(sim, seed)
            frame = sim.render()
            text, plan = oracle_plan(sim, episode)
            cv2.imwrite(str(args.out / f"{name}.png"), caption(annotate(frame.rgb, plan), f'"{episode.instruction}"'))
            print(f"{name}: {episode.instruction!r} -> {text}")
            if name == "put-block-in-bowl":
                cv2.imwrite(str(args.out / "depth.png"), caption(depth_image(frame.depth), "metric depth"))
                result = executor.execute(plan)
                after = cv2.cvtColor(sim.render().rgb, cv2.COLOR_RGB2BGR)
                cv2.imwrite(str(args.out / f"{name}-after.png"), caption(after, f"after: {result.message}"))
    print(f"wrote {sorted(p.name for p in args.out.glob('*.png'))} to {args.out}")


if __name__ == "__main__":
    main()
