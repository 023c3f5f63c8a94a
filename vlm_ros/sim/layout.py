"""Seeded, overlap-free object layouts inside the spawn area."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlm_ros.core.vocabulary import COLORS
from vlm_ros.sim.objects import footprint_radius
from vlm_ros.sim.workspace import SPAWN_AREA

GAP = 0.015  # free space between footprints [m]
MAX_YAW = np.pi / 6.0  # blocks are turned at most this far [rad]
BOWL_INSET = 0.03  # bowl centres stay this far inside the spawn area [m]


class LayoutError(RuntimeError):
    """The requested objects do not fit on the table."""


@dataclass
class Placement:
    kind: str  # "block" | "bowl"
    color: str
    xy: tuple[float, float]  # [m], base frame
    yaw: float  # [rad]


def pick_colors(rng: np.random.Generator, given: list[str] | None, n_range: tuple[int, int],
                exclude: tuple[str, ...] = ()) -> list[str]:
    """Given colours as they are, or n distinct random ones (n drawn from n_range, inclusive)."""
    if given is not None:
        unknown = [c for c in given if c not in COLORS]
        if unknown:
            raise ValueError(f"unknown colour(s) {unknown}; known: {', '.join(COLORS)}")
        return list(given)
    palette = [c for c in COLORS if c not in exclude]
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    return [str(c) for c in rng.choice(palette, size=min(n, len(palette)), replace=False)]


def sample_layout(rng: np.random.Generator, blocks: list[str], bowls: list[str],
                  keep_clear: list[tuple[tuple[float, float], float]] = (), attempts: int = 500,
                  scale: float = 1.0) -> list[Placement]:
    """Place bowls first (they are bigger), then blocks, by rejection sampling.

    keep_clear: ((x, y), radius) discs [m] no object may overlap, e.g. a target location.
    scale: object size relative to nominal (footprints and the bowls' inset grow with it).
    """
    placed: list[tuple[np.ndarray, float]] = [(np.asarray(xy, dtype=float), r) for xy, r in keep_clear]
    result: list[Placement] = []
    lo, hi = np.array(SPAWN_AREA.lo[:2]), np.array(SPAWN_AREA.hi[:2])
    for kind, colors in (("bowl", bowls), ("block", blocks)):
        radius = footprint_radius(kind, scale)
        inset = BOWL_INSET * scale if kind == "bowl" else 0.0
        for color in colors:
            for _ in range(attempts):
                xy = rng.uniform(lo + inset, hi - inset)
                if all(np.linalg.norm(xy - other) >= radius + r + GAP for other, r in placed):
                    break
            else:
                raise LayoutError(f"no room for the {color} {kind} after {attempts} tries")
            yaw = float(rng.uniform(-MAX_YAW, MAX_YAW))
            placed.append((xy, radius))
            result.append(Placement(kind, color, (float(xy[0]), float(xy[1])), yaw))
    return result
