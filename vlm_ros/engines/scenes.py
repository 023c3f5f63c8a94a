"""Rendered evaluation inputs for parity and latency: full 640 x 480 sim frames + instructions.

Held-out instruction templates, fixed seeds: every backend and every run sees the same inputs,
and they are the frames the node would get from the sim camera (so preprocessing is timed
on real frame sizes). About 0.1 s per scene to render.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIRST_SEED = 9_000_000  # far from the training seeds


@dataclass
class BenchScene:
    seed: int
    rgb: np.ndarray  # [480, 640, 3] uint8
    instruction: str


def render_bench_scenes(count: int, first_seed: int = FIRST_SEED) -> list[BenchScene]:
    from vlm_ros.models.processor import ImageProcessor
    from vlm_ros.training.grammar import InstructionGrammar, load_template_set
    from vlm_ros.training.scenes import FRAME_H, FRAME_W, SceneRenderer

    renderer = SceneRenderer(ImageProcessor(), FRAME_W, FRAME_H)
    try:
        grammar = InstructionGrammar(load_template_set("heldout"), renderer.location_pixels())
        rng = np.random.default_rng(first_seed)
        scenes = []
        for seed in range(first_seed, first_seed + count):
            scene = renderer.render(seed, keep_frame=True)
            scenes.append(BenchScene(seed, scene.frame, grammar.sample(rng, scene).instruction))
        return scenes
    finally:
        renderer.close()
