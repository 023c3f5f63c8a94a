"""Where objects spawn and where the executor accepts targets, in the base frame [m].

Two boxes, because a plan may legitimately aim a little outside the spawn area
(a bowl's rim, a push that ends past the edge) but never off the table or out of reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box3:
    """Axis-aligned box in the base frame [m]."""

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]

    def contains(self, point: np.ndarray, margin: float = 0.0) -> bool:
        p = np.asarray(point, dtype=float)[:3]
        return bool(np.all(p >= np.asarray(self.lo) - margin) and np.all(p <= np.asarray(self.hi) + margin))


# Object centres are sampled in here (table top at z = 0).
SPAWN_AREA = Box3(lo=(0.35, -0.25, 0.0), hi=(0.65, 0.25, 0.0))
# Targets the executor accepts; anything else is rejected before the arm moves. Every point
# in it, and 12 cm above it, is reachable with the tool pointing down (tests/test_sim_executor.py).
WORKSPACE = Box3(lo=(0.28, -0.32, -0.01), hi=(0.70, 0.32, 0.20))
