"""Simulated RGB-D camera: intrinsics, pose, metric depth and pixel projection.

Conventions: the pose is `camera_color_optical_frame` (x right, y down, z forward);
pixel (u, v) follows OpenCV (integer values are pixel centres), so the principal
point of a W x H image is ((W - 1) / 2, (H - 1) / 2). Depth is the distance along
the optical axis [m], recovered from the OpenGL z-buffer.

The default pose looks at the table from across it, facing the robot (as the
Ravens/CLIPort front camera does), so the arm's home pose is behind the
workspace and never occludes it. Image right is therefore the robot's left (+y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from vlm_ros.core.types import CameraIntrinsics, RGBDFrame

FRAME_ID = "camera_color_optical_frame"


@dataclass
class CameraConfig:
    """Camera pose (eye looks at target, base frame [m]) and optics."""

    eye: tuple[float, float, float] = (0.85, 0.0, 0.65)
    target: tuple[float, float, float] = (0.50, 0.0, 0.0)
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov_y_deg: float = 45.0  # vertical field of view, close to a RealSense D415's
    near: float = 0.05  # clip planes [m]; depth outside them is NaN
    far: float = 3.0


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """4x4 transform optical frame -> base frame for a camera at eye looking at target."""
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("camera up vector is parallel to the viewing direction")
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = x, y, z, eye
    return pose


class SimCamera:
    """Renders RGB-D frames from a fixed pose and converts between pixels and base frame."""

    def __init__(self, config: CameraConfig, width: int, height: int):
        if width <= 0 or height <= 0:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        self.config = config
        self.frame_id = FRAME_ID
        self.width, self.height = int(width), int(height)
        fy = (self.height / 2.0) / math.tan(math.radians(config.fov_y_deg) / 2.0)
        self.intrinsics = CameraIntrinsics(
            fx=fy, fy=fy, cx=(self.width - 1) / 2.0, cy=(self.height - 1) / 2.0,
            width=self.width, height=self.height,
        )
        eye, target, up = (np.asarray(v, dtype=float) for v in (config.eye, config.target, config.up))
        self.camera_to_base = look_at(eye, target, up)  # [4, 4]
        self.base_to_camera = np.linalg.inv(self.camera_to_base)
        self._view = p.computeViewMatrix(config.eye, config.target, self.camera_to_base[:3, 1] * -1.0)
        self._proj = p.computeProjectionMatrixFOV(
            config.fov_y_deg, self.width / self.height, config.near, config.far
        )

    def project(self, point_base: np.ndarray) -> tuple[float, float]:
        """Base-frame point [m] -> pixel (u, v); raises if it is behind the camera."""
        pc = self.base_to_camera @ np.append(np.asarray(point_base, dtype=float)[:3], 1.0)
        if pc[2] <= 1e-6:
            raise ValueError(f"point {point_base} is behind the camera")
        k = self.intrinsics
        return (float(k.fx * pc[0] / pc[2] + k.cx), float(k.fy * pc[1] / pc[2] + k.cy))

    def back_project(self, u: float, v: float, depth: float) -> np.ndarray:
        """Pixel (u, v) with optical-axis depth [m] -> base-frame point [m]."""
        k = self.intrinsics
        pc = np.array([(u - k.cx) / k.fx * depth, (v - k.cy) / k.fy * depth, depth, 1.0])
        return (self.camera_to_base @ pc)[:3]

    def render(self, client: int, stamp_ns: int = 0, cull: tuple[int, ...] = (),
               light: dict | None = None) -> RGBDFrame:
        """One frame with the tiny (CPU) renderer: fast in DIRECT mode and deterministic.

        Links of the bodies in `cull` that lie wholly outside the view are hidden while
        rendering: the renderer's cost grows with mesh triangles even off screen, and the
        Panda's meshes cost more than the rest of the scene at small image sizes.
        light: extra getCameraImage light arguments (sim.look.Lighting.render_kwargs).
        """
        hidden = [(b, link) for b in cull for link in self._links_out_of_view(client, b)]
        for body, link in hidden:
            p.changeVisualShape(body, link, rgbaColor=[1, 1, 1, 0], physicsClientId=client)
        try:
            _, _, rgba, zbuf, _ = p.getCameraImage(
                self.width, self.height, self._view, self._proj,
                renderer=p.ER_TINY_RENDERER, flags=p.ER_NO_SEGMENTATION_MASK, physicsClientId=client,
                **(light or {}),
            )
        finally:
            for body, link in hidden:
                p.changeVisualShape(body, link, rgbaColor=[1, 1, 1, 1], physicsClientId=client)
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(self.height, self.width, 4)[:, :, :3].copy()
        depth = self.metric_depth(np.asarray(zbuf, dtype=np.float64).reshape(self.height, self.width))
        return RGBDFrame(rgb=rgb, depth=depth, intrinsics=self.intrinsics, stamp_ns=stamp_ns,
                         frame_id=self.frame_id)

    def _links_out_of_view(self, client: int, body: int, margin: float = 0.03) -> list[int]:
        """Links whose bounding box (grown by margin [m]) is entirely outside one frustum plane."""
        tan_y = math.tan(math.radians(self.config.fov_y_deg) / 2.0)
        tan_x = tan_y * self.width / self.height
        out = []
        for link in range(-1, p.getNumJoints(body, physicsClientId=client)):
            lo, hi = (np.asarray(v) for v in p.getAABB(body, link, physicsClientId=client))
            if np.any(hi < lo):
                continue  # a link without geometry
            corners = np.array([[x, y, z, 1.0] for x in (lo[0] - margin, hi[0] + margin)
                                for y in (lo[1] - margin, hi[1] + margin) for z in (lo[2] - margin, hi[2] + margin)])
            c = (self.base_to_camera @ corners.T).T  # [8, 4] optical frame
            x, y, z = c[:, 0], c[:, 1], c[:, 2]
            if (np.all(z < self.config.near) or np.all(x > tan_x * z) or np.all(x < -tan_x * z)
                    or np.all(y > tan_y * z) or np.all(y < -tan_y * z)):
                out.append(link)
        return out

    def metric_depth(self, zbuf: np.ndarray) -> np.ndarray:
        """OpenGL z-buffer in [0, 1] -> depth along the optical axis [m], NaN at the far plane."""
        near, far = self.config.near, self.config.far
        depth = far * near / (far - (far - near) * zbuf)
        depth[zbuf >= 1.0] = np.nan
        return depth.astype(np.float32)
