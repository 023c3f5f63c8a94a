"""Named held-out shifts of the cell for `vlm-ros eval-grounding --shift NAME`.

The first group matches the robustness table of the default model's issue (camera moved, field of
view, side / overhead / across-the-table views, light, table); the `edge-*` group puts one
randomisation range (training.randomization.Randomization) at its limit with the rest nominal.
Each shift is a function of the episode's rng, so `camera-jitter` and `arm-in-view` vary per episode
and stay reproducible per seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from vlm_ros.sim.camera import CameraConfig
from vlm_ros.sim.look import CellLook, Lighting, camera_on_sphere
from vlm_ros.sim.robot import HOME
from vlm_ros.training.randomization import TABLE_PALETTE, Randomization

NOMINAL = CameraConfig()
NOMINAL_TARGET = NOMINAL.target
# the trained camera in sphere terms: 0.74 m from (0.5, 0, 0), azimuth 0, elevation 61.7 deg
NOMINAL_DISTANCE = math.dist(NOMINAL.eye, NOMINAL.target)
NOMINAL_ELEVATION = math.degrees(math.asin((NOMINAL.eye[2] - NOMINAL.target[2]) / NOMINAL_DISTANCE))
EDGES = Randomization()

Shift = Callable[[np.random.Generator], CellLook]


def _camera(**kw) -> CameraConfig:
    args = dict(target=NOMINAL_TARGET, distance=NOMINAL_DISTANCE, azimuth_deg=0.0, elevation_deg=NOMINAL_ELEVATION,
                roll_deg=0.0, fov_y_deg=NOMINAL.fov_y_deg)
    args.update(kw)
    return camera_on_sphere(**args)


def camera_jitter(rng: np.random.Generator) -> CellLook:
    """The trained camera moved by up to +-10 cm, its target by +-5 cm and rolled by up to +-5 deg."""
    eye = np.asarray(NOMINAL.eye) + rng.uniform(-0.10, 0.10, size=3)
    target = np.asarray(NOMINAL.target) + np.append(rng.uniform(-0.05, 0.05, size=2), 0.0)
    forward = (target - eye) / np.linalg.norm(target - eye)
    up = np.array([0.0, 0.0, 1.0]) - forward * forward[2]
    up /= np.linalg.norm(up)
    roll = math.radians(rng.uniform(-5.0, 5.0))
    up = up * math.cos(roll) + np.cross(forward, up) * math.sin(roll)
    cam = CameraConfig(eye=tuple(eye.tolist()), target=tuple(target.tolist()), up=tuple(up.tolist()))
    return CellLook(camera=cam)


def arm_in_view(rng: np.random.Generator) -> CellLook:
    """Across the table, further back and lower, with the arm reaching into view in a random pose."""
    lo = np.array([-0.6, 0.0, -0.4, -2.3, -0.5, 1.6, HOME[6]])  # reaching forward over the table
    hi = np.array([0.6, 0.6, 0.4, -1.5, 0.5, 2.6, HOME[6]])
    q = rng.uniform(lo, hi)
    return CellLook(camera=_camera(distance=1.0, elevation_deg=40.0), arm_joints=tuple(float(v) for v in q))


def _fixed(look: CellLook) -> Shift:
    return lambda rng: look


def _table(name: str, texture: str = "plain") -> Shift:
    return _fixed(CellLook(table_color=TABLE_PALETTE[name], table_texture=texture))


SHIFTS: dict[str, Shift] = {
    "trained": _fixed(CellLook()),
    "camera-jitter": camera_jitter,
    "fov-55": _fixed(CellLook(camera=replace(NOMINAL, fov_y_deg=55.0))),
    "side": _fixed(CellLook(camera=_camera(azimuth_deg=90.0, elevation_deg=50.0, distance=0.85))),
    "overhead": _fixed(CellLook(camera=_camera(elevation_deg=90.0, distance=0.85))),
    "arm-in-view": arm_in_view,
    "light-front": _fixed(CellLook(lighting=Lighting(direction=(0.9, 0.0, 0.45)))),
    "light-bright": _fixed(CellLook(lighting=Lighting(ambient=0.9, diffuse=0.6))),
    "light-low-left": _fixed(CellLook(lighting=Lighting(direction=(0.0, -0.97, 0.25), shadows=True))),
    "light-dim": _fixed(CellLook(lighting=Lighting(ambient=0.25, diffuse=0.15, specular=0.0))),
    "table-gray": _table("gray"),
    "table-white": _table("white"),
    "table-dark-wood": _table("dark wood", "wood"),
    "table-black": _table("black"),
    # the randomisation ranges at their limits, one at a time
    "edge-fov-35": _fixed(CellLook(camera=_camera(fov_y_deg=EDGES.fov_y_deg[0], distance=1.0))),
    "edge-fov-70": _fixed(CellLook(camera=_camera(fov_y_deg=EDGES.fov_y_deg[1], distance=0.55))),
    "edge-elevation-25": _fixed(CellLook(camera=_camera(elevation_deg=EDGES.elevation_deg[0], distance=0.95))),
    "edge-azimuth-180": _fixed(CellLook(camera=_camera(azimuth_deg=180.0, elevation_deg=80.0, distance=1.0))),
    "edge-roll-15": _fixed(CellLook(camera=_camera(roll_deg=EDGES.roll_deg[1]))),
    "edge-distance-max": _fixed(CellLook(camera=_camera(distance=EDGES.distance[1]))),
    "edge-aspect-16:9": _fixed(CellLook(width=640, height=360, camera=_camera(distance=0.85))),
    "edge-scale-0.75": _fixed(CellLook(object_scale=EDGES.object_scale[0])),
    "edge-scale-1.25": _fixed(CellLook(object_scale=EDGES.object_scale[1])),
    "edge-clutter-4": _fixed(CellLook(distractors=EDGES.distractors[1])),
    "edge-noise-6": _fixed(CellLook(noise_std=EDGES.noise_std[1])),
    "edge-jpeg-35": _fixed(CellLook(jpeg_quality=EDGES.jpeg_quality[0])),
    "edge-light-tint": _fixed(CellLook(lighting=Lighting(color=(1.0, 1.0 - EDGES.light_tint, 1.0 - EDGES.light_tint)))),
}
ISSUE_TABLE = [name for name in SHIFTS if not name.startswith("edge-")]


def resolve(names: list[str]) -> list[str]:
    """'all' -> every shift; 'table' -> the issue's table; otherwise names checked against SHIFTS."""
    out: list[str] = []
    for name in names:
        if name == "all":
            out += list(SHIFTS)
        elif name == "table":
            out += ISSUE_TABLE
        elif name in SHIFTS:
            out.append(name)
        else:
            raise ValueError(f"unknown shift {name!r}; known: all, table, {', '.join(SHIFTS)}")
    return list(dict.fromkeys(out))
