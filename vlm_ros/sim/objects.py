"""Blocks and bowls: how they are built in PyBullet and where a gripper meets them.

Bowls are compound rigid bodies (a floor disc and a ring of wall slabs) rather than
meshes, so they need no asset files and render fast with the tiny renderer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from vlm_ros.core.vocabulary import COLORS, object_label

BLOCK_SIZE = 0.04  # edge [m]
BLOCK_MASS = 0.05  # [kg]
BOWL_DIAMETER = 0.14  # outer [m]; holds three blocks side by side
BOWL_HEIGHT = 0.035  # outer [m]
BOWL_FLOOR = 0.006  # floor thickness [m]
BOWL_WALL = 0.006  # wall thickness [m]
BOWL_SEGMENTS = 14  # + the floor: 15 parts; PyBullet crashes on compounds of more than 16
BOWL_MASS = 0.3  # [kg]


@dataclass
class SceneObject:
    """One object on the table, as the task and the grounder name it."""

    label: str  # "red block"
    kind: str  # "block" | "bowl"
    color: str  # "red"
    body_id: int
    size: float  # block edge / bowl outer diameter [m]
    client: int = 0
    scale: float = 1.0  # relative to the nominal size (domain randomisation varies it)

    def pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre [m] and quaternion xyzw, base frame."""
        pos, quat = p.getBasePositionAndOrientation(self.body_id, physicsClientId=self.client)
        return np.array(pos), np.array(quat)

    def position(self) -> np.ndarray:
        """Geometric centre of the object, base frame [m]."""
        return self.pose()[0]

    def top_point(self) -> np.ndarray:
        """Block: its highest point over the centre (suction contact). Bowl: inner bottom centre."""
        centre, quat = self.pose()
        rot = np.array(p.getMatrixFromQuaternion(quat)).reshape(3, 3)
        if self.kind == "block":
            # highest extent of a (possibly tilted) cube above its centre; s/2 when a face points up
            return np.array([centre[0], centre[1], centre[2] + self.size / 2.0 * np.abs(rot[2]).sum()])
        floor = rot @ np.array([0.0, 0.0, (-BOWL_HEIGHT / 2.0 + BOWL_FLOOR) * self.scale])
        return centre + floor


def _rgba(color: str) -> list[float]:
    return [*COLORS[color], 1.0]


def quantized_scale(scale: float) -> float:
    """Sizes in steps of 5 %, so a randomised run creates a bounded number of shapes."""
    return round(float(scale) * 20.0) / 20.0


def _bowl_parts(scale: float = 1.0) -> tuple[list[int], list[list[float]], list[list[float]], list[list[float]]]:
    """Shape types, half extents/radii, offsets and orientations of a bowl's parts (body frame)."""
    types, dims, offsets, quats = _nominal_bowl_parts()
    return types, [[v * scale for v in d] for d in dims], [[v * scale for v in o] for o in offsets], quats


def _nominal_bowl_parts() -> tuple[list[int], list[list[float]], list[list[float]], list[list[float]]]:
    r_out = BOWL_DIAMETER / 2.0
    z_floor = -BOWL_HEIGHT / 2.0 + BOWL_FLOOR / 2.0
    types = [p.GEOM_CYLINDER]
    dims = [[r_out, BOWL_FLOOR]]  # radius, length
    offsets = [[0.0, 0.0, z_floor]]
    quats = [[0.0, 0.0, 0.0, 1.0]]
    wall_h = BOWL_HEIGHT - BOWL_FLOOR
    r_mid = r_out - BOWL_WALL / 2.0
    chord = 2.0 * r_out * math.tan(math.pi / BOWL_SEGMENTS)
    for i in range(BOWL_SEGMENTS):
        a = 2.0 * math.pi * i / BOWL_SEGMENTS
        types.append(p.GEOM_BOX)
        dims.append([BOWL_WALL / 2.0, chord / 2.0, wall_h / 2.0])
        offsets.append([r_mid * math.cos(a), r_mid * math.sin(a), z_floor + BOWL_FLOOR / 2.0 + wall_h / 2.0])
        quats.append(list(p.getQuaternionFromEuler([0.0, 0.0, a])))
    return types, dims, offsets, quats


class ShapeLibrary:
    """Collision and visual shapes of one physics client, made once and shared by every body.

    PyBullet never frees shapes, so creating them per reset would leak memory and slow
    the renderer down over thousands of scenes.
    """

    def __init__(self, client: int):
        self.client = client
        self._collision: dict[str, int] = {}
        self._visual: dict[tuple[str, str, float], int] = {}

    def get(self, kind: str, color: str, scale: float = 1.0) -> tuple[int, int]:
        """(collision shape, visual shape) for a block or bowl of that colour and (quantized) scale."""
        scale = quantized_scale(scale)
        if (kind, scale) not in self._collision:
            self._collision[(kind, scale)] = self._make(kind, None, scale)
        if (kind, color, scale) not in self._visual:
            self._visual[(kind, color, scale)] = self._make(kind, color, scale)
        return self._collision[(kind, scale)], self._visual[(kind, color, scale)]

    def _make(self, kind: str, color: str | None, scale: float = 1.0) -> int:
        """A collision shape (color None) or a visual shape."""
        c = self.client
        if kind == "block":
            half = [BLOCK_SIZE / 2.0 * scale] * 3
            if color is None:
                return p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=c)
            return p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=_rgba(color), physicsClientId=c)
        types, dims, offsets, quats = _bowl_parts(scale)
        radii = [d[0] if t == p.GEOM_CYLINDER else 0.0 for t, d in zip(types, dims)]
        lengths = [d[1] if t == p.GEOM_CYLINDER else 0.0 for t, d in zip(types, dims)]
        extents = [d if t == p.GEOM_BOX else [0.0, 0.0, 0.0] for t, d in zip(types, dims)]
        if color is None:
            return p.createCollisionShapeArray(
                types, radii=radii, halfExtents=extents, lengths=lengths,
                collisionFramePositions=offsets, collisionFrameOrientations=quats, physicsClientId=c,
            )
        return p.createVisualShapeArray(
            types, radii=radii, halfExtents=extents, lengths=lengths, rgbaColors=[_rgba(color)] * len(types),
            visualFramePositions=offsets, visualFrameOrientations=quats, physicsClientId=c,
        )


def make_object(shapes: ShapeLibrary, kind: str, color: str, xy: tuple[float, float], yaw: float,
                scale: float = 1.0) -> SceneObject:
    """A block or bowl standing on the table (z = 0), turned by yaw [rad], `scale` times its nominal size."""
    scale = quantized_scale(scale)
    col, vis = shapes.get(kind, color, scale)
    size, mass, height = (BLOCK_SIZE, BLOCK_MASS, BLOCK_SIZE) if kind == "block" else (
        BOWL_DIAMETER, BOWL_MASS, BOWL_HEIGHT)
    size, mass, height = size * scale, mass * scale**3, height * scale
    body = p.createMultiBody(
        mass, col, vis, basePosition=[xy[0], xy[1], height / 2.0],
        baseOrientation=p.getQuaternionFromEuler([0.0, 0.0, yaw]), physicsClientId=shapes.client,
    )
    p.changeDynamics(body, -1, lateralFriction=0.8, physicsClientId=shapes.client)
    return SceneObject(object_label(color, kind), kind, color, body, size, shapes.client, scale)


def bowl_inner_radius() -> float:
    return BOWL_DIAMETER / 2.0 - BOWL_WALL


def footprint_radius(kind: str, scale: float = 1.0) -> float:
    """Radius of the disc an object covers on the table [m], for overlap-free layouts."""
    return (BLOCK_SIZE / math.sqrt(2.0) if kind == "block" else BOWL_DIAMETER / 2.0) * scale
