"""Rigid transforms as 4x4 matrices, with the ROS (x, y, z, qx, qy, qz, qw) layout."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# tf2's tolerance: a quaternion whose squared length is further than this from 1 is rejected, not
# silently normalised, because it means the sender computed the rotation wrongly.
UNIT_TOLERANCE = 0.01


def quaternion_to_matrix(qx: float, qy: float, qz: float, qw: float) -> np.ndarray:
    """Unit quaternion (ROS order x, y, z, w) → 3x3 rotation.

    Raises ValueError naming the problem for NaN/inf, zero or non-unit quaternions; within
    tf2's tolerance the quaternion is normalised.
    """
    q = np.array([qx, qy, qz, qw], dtype=float)
    if not np.all(np.isfinite(q)):
        raise ValueError(f"the rotation quaternion {_fmt(q)} is not finite")
    length2 = float(q @ q)
    if length2 < 1e-12:
        raise ValueError("the rotation quaternion is zero (all four components 0), so it is no rotation")
    if abs(length2 - 1.0) > UNIT_TOLERANCE:
        raise ValueError(f"the rotation quaternion {_fmt(q)} is not unit length (length {np.sqrt(length2):.4g})")
    x, y, z, w = q / np.sqrt(length2)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quaternion(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """3x3 rotation → unit quaternion (x, y, z, w), w ≥ 0."""
    m = np.asarray(rotation, dtype=float)
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        w, x, y, z = 0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        w, x, y, z = (m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        w, x, y, z = (m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        w, x, y, z = (m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s
    q = np.array([x, y, z, w])
    q = q / np.linalg.norm(q)
    if q[3] < 0:
        q = -q
    return float(q[0]), float(q[1]), float(q[2]), float(q[3])


def pose_to_matrix(pose: Sequence[float]) -> np.ndarray:
    """[x, y, z, qx, qy, qz, qw] → 4x4 homogeneous transform."""
    if len(pose) != 7:
        raise ValueError(f"a pose needs 7 numbers [x, y, z, qx, qy, qz, qw], got {len(pose)}")
    translation = np.asarray(pose[:3], dtype=float)
    if not np.all(np.isfinite(translation)):
        raise ValueError(f"the translation {_fmt(translation)} is not finite")
    matrix = np.eye(4)
    matrix[:3, :3] = quaternion_to_matrix(*pose[3:])
    matrix[:3, 3] = pose[:3]
    return matrix


def matrix_to_pose(matrix: np.ndarray) -> list[float]:
    """4x4 homogeneous transform → [x, y, z, qx, qy, qz, qw]."""
    return [float(v) for v in matrix[:3, 3]] + list(matrix_to_quaternion(matrix[:3, :3]))


def _fmt(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def transform_point(matrix: np.ndarray, point: np.ndarray) -> np.ndarray:
    return (matrix[:3, :3] @ np.asarray(point, dtype=float)) + matrix[:3, 3]
