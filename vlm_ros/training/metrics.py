"""Point errors in metres: a predicted pixel is cast onto the horizontal plane of the true point."""

from __future__ import annotations

import numpy as np


def pixel_to_plane(intrinsics, camera_to_base: np.ndarray, u: float, v: float, z: float) -> np.ndarray:
    """Intersect the camera ray through pixel (u, v) with the plane z = const of the base frame."""
    ray_cam = np.array([(u - intrinsics.cx) / intrinsics.fx, (v - intrinsics.cy) / intrinsics.fy, 1.0])
    ray = camera_to_base[:3, :3] @ ray_cam
    origin = camera_to_base[:3, 3]
    t = (z - origin[2]) / ray[2]
    return origin + t * ray


def point_error_cm(intrinsics, camera_to_base: np.ndarray, pixel: tuple[float, float],
                   point: tuple[float, float, float]) -> float:
    """Horizontal distance [cm] between the true point and the predicted pixel's ray at its height."""
    hit = pixel_to_plane(intrinsics, camera_to_base, pixel[0], pixel[1], point[2])
    return float(np.linalg.norm(hit[:2] - np.asarray(point[:2])) * 100.0)


def reference_camera():
    """Intrinsics and camera_to_base of the sim camera at the 640 x 480 reference size."""
    from vlm_ros.sim.camera import CameraConfig, SimCamera

    cam = SimCamera(CameraConfig(), 640, 480)
    return cam.intrinsics, cam.camera_to_base
