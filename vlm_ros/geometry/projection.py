"""Pixel + depth + intrinsics + camera→base transform → 3D point in the base frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import CameraIntrinsics
from vlm_ros.geometry.distortion import distort_normalized, undistort_normalized
from vlm_ros.geometry.transforms import transform_point


def back_project(u: float, v: float, depth_m: float, intrinsics: CameraIntrinsics) -> np.ndarray:
    """Pixel (u, v) at optical-axis depth → point in the camera optical frame [m].

    A raw image's pixel is undistorted first (intrinsics.d), so lens distortion does not move targets.
    """
    if intrinsics.d:
        xn, yn = undistort_normalized(u, v, intrinsics.matrix(), intrinsics.distortion_model, intrinsics.d)
        return np.array([xn * depth_m, yn * depth_m, depth_m])
    x = (u - intrinsics.cx) * depth_m / intrinsics.fx
    y = (v - intrinsics.cy) * depth_m / intrinsics.fy
    return np.array([x, y, depth_m])


def project(point_camera: np.ndarray, intrinsics: CameraIntrinsics) -> tuple[float, float]:
    """Point in the camera optical frame → pixel (u, v), distorted like the raw image when intrinsics.d."""
    x, y, z = point_camera
    if intrinsics.d:
        return distort_normalized(x / z, y / z, intrinsics.matrix(), intrinsics.distortion_model, intrinsics.d)
    return intrinsics.fx * x / z + intrinsics.cx, intrinsics.fy * y / z + intrinsics.cy


def depth_at(depth: np.ndarray, u: float, v: float, window: int = 5) -> float:
    """Robust depth at a pixel: median of the valid values in a small window.

    Single depth pixels are unreliable at edges and on real sensors (holes, flying
    pixels); a small median keeps a grasp point from landing on the table behind a block.
    """
    height, width = depth.shape
    col, row = int(round(u)), int(round(v))
    if not (0 <= col < width and 0 <= row < height):
        raise InputError(f"the point ({u:.0f}, {v:.0f}) is outside the {width}x{height} depth image")
    half = window // 2
    patch = depth[max(0, row - half) : row + half + 1, max(0, col - half) : col + half + 1]
    valid = patch[np.isfinite(patch) & (patch > 0)]
    if valid.size == 0:
        raise InputError(f"there is no valid depth at pixel ({col}, {row}), so it cannot be located in 3D")
    return float(np.median(valid))


@dataclass
class Projector:
    """Lifts model pixels to 3D targets in the base frame."""

    camera_to_base: np.ndarray  # [4, 4] maps camera optical-frame points to base-frame points
    depth_window: int = 5

    def to_base(self, u: float, v: float, depth: np.ndarray, intrinsics: CameraIntrinsics) -> np.ndarray:
        point_camera = back_project(u, v, depth_at(depth, u, v, self.depth_window), intrinsics)
        return transform_point(self.camera_to_base, point_camera)
