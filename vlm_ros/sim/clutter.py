"""Unlabelled clutter: spheres and cans in colours no instruction names, for domain randomisation.

A grounder must ignore them: they are no block, no bowl, and not in `core.vocabulary.COLORS`.
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vlm_ros.sim.workspace import SPAWN_AREA

# dark and muted tones, away from every vocabulary colour (black is not one of them)
CLUTTER_COLORS = ((0.06, 0.06, 0.06), (0.22, 0.22, 0.25), (0.38, 0.40, 0.18), (0.30, 0.18, 0.22))
CLUTTER_RADIUS = 0.022  # footprint radius [m]
SHAPES = ("sphere", "can")
MARGIN = 0.06  # clutter may lie this far outside the spawn area [m]


class ClutterShapes:
    """One visual shape per (shape, colour), made once per client (PyBullet never frees shapes)."""

    def __init__(self, client: int):
        self.client = client
        self._ids: dict[tuple[str, int], int] = {}

    def get(self, shape: str, color: int) -> int:
        if (shape, color) not in self._ids:
            rgba = [*CLUTTER_COLORS[color], 1.0]
            if shape == "sphere":
                vis = p.createVisualShape(p.GEOM_SPHERE, radius=CLUTTER_RADIUS * 0.8, rgbaColor=rgba,
                                          physicsClientId=self.client)
            else:
                vis = p.createVisualShape(p.GEOM_CYLINDER, radius=CLUTTER_RADIUS * 0.8, length=0.05,
                                          rgbaColor=rgba, physicsClientId=self.client)
            self._ids[(shape, color)] = vis
        return self._ids[(shape, color)]


def place_clutter(shapes: ClutterShapes, rng: np.random.Generator, n: int,
                  occupied: list[tuple[tuple[float, float], float]], attempts: int = 200) -> list[int]:
    """Up to n visual-only bodies on the table, clear of `occupied` ((x, y), radius) discs [m]."""
    lo = np.array(SPAWN_AREA.lo[:2]) - MARGIN
    hi = np.array(SPAWN_AREA.hi[:2]) + MARGIN
    discs = [(np.asarray(xy, dtype=float), r) for xy, r in occupied]
    bodies = []
    for _ in range(n):
        for _ in range(attempts):
            xy = rng.uniform(lo, hi)
            if all(np.linalg.norm(xy - c) >= r + CLUTTER_RADIUS + 0.01 for c, r in discs):
                break
        else:
            continue
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        vis = shapes.get(shape, int(rng.integers(len(CLUTTER_COLORS))))
        z = CLUTTER_RADIUS * 0.8 if shape == "sphere" else 0.025
        bodies.append(p.createMultiBody(0.0, -1, vis, basePosition=[float(xy[0]), float(xy[1]), z],
                                        physicsClientId=shapes.client))
        discs.append((xy, CLUTTER_RADIUS))
    return bodies
