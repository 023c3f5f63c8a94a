"""Where several objects go when one plan places them all at the same target (a bowl, a spot)."""

from __future__ import annotations

import math

import numpy as np

SLOT_RADIUS = 0.033  # [m] 4 cm blocks this far from the centre stay apart even when turned


def ring_slots(centre: np.ndarray, n: int, radius: float = SLOT_RADIUS) -> list[np.ndarray]:
    """The centre itself for one object; n points on a ring around it for more."""
    centre = np.asarray(centre, dtype=float)
    if n <= 1:
        return [centre]
    return [centre + radius * np.array([math.cos(a), math.sin(a), 0.0])
            for a in (2.0 * math.pi * k / n for k in range(n))]
