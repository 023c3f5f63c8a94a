"""Tiny synthetic scenes (coloured squares on beige, no PyBullet) for tests and smoke runs."""

from __future__ import annotations

import numpy as np

from vlm_ros.core.vocabulary import COLORS, LOCATIONS
from vlm_ros.models.processor import ImageProcessor
from vlm_ros.training.scenes import FRAME_H, FRAME_W, Scene, SceneObjectInfo


def synthetic_scene(seed: int, processor: ImageProcessor) -> Scene:
    """2-4 blocks and 1-2 bowls as squares/discs; pixels are frame pixels, points fake metres."""
    rng = np.random.default_rng(seed)
    s = processor.config.image_size
    image = np.full((s, s, 3), (178, 163, 133), dtype=np.uint8)
    colors = [str(c) for c in rng.choice(list(COLORS), size=int(rng.integers(3, 7)), replace=False)]
    n_bowls = int(rng.integers(1, 3))
    objects = []
    cells = rng.choice(16, size=len(colors), replace=False)
    for i, (color, cell) in enumerate(zip(colors, cells)):
        kind = "bowl" if i < n_bowls else "block"
        cx, cy = (cell % 4 + 0.5) * s / 4, (cell // 4 + 0.5) * s / 4
        half = s / 10 if kind == "bowl" else s / 16
        rgb = (np.array(COLORS[color]) * 255).astype(np.uint8)
        image[int(cy - half):int(cy + half), int(cx - half):int(cx + half)] = rgb
        u, v = processor.model_to_frame(cx, cy, FRAME_W, FRAME_H)
        objects.append(SceneObjectInfo(f"{color} {kind}", kind, color, (u, v), (cx / 100, cy / 100, 0.02)))
    return Scene(seed=seed, objects=objects, image=image)


def synthetic_locations(processor: ImageProcessor) -> dict[str, tuple[float, float]]:
    """Named locations at fixed frame pixels, laid out like the table's."""
    s = processor.config.image_size
    out = {}
    for name, (x, y) in LOCATIONS.items():
        mx, my = (0.5 - y) * s, (x - 0.3) / 0.4 * s
        out[name] = processor.model_to_frame(mx, my, FRAME_W, FRAME_H)
    return out
