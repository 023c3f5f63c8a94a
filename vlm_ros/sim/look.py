"""How a cell looks, apart from the task: camera, light, table, arm pose, object size, clutter, sensor.

`CellLook()` is the trained cell (the default camera, PyBullet's default light, the beige table,
the arm at HOME, nominal sizes, no clutter, a clean sensor): applying it changes nothing about a
render. Domain randomisation (`vlm_ros.training.randomization`) samples looks; the robustness
evaluation (`vlm_ros.training.shifts`) names fixed ones. The camera stays known to the pipeline
(the sim's intrinsics and camera_to_base follow it), so a model only has to find objects in pixels.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pybullet as p

from vlm_ros.sim.camera import CameraConfig

TABLE_BEIGE = (0.70, 0.64, 0.52)  # the trained cell's table (sim.scene.TABLE_COLOR)
TEXTURES = ("plain", "wood", "speckle")
TEXTURE_VARIANTS = 8  # textures per kind, made once per client (PyBullet never frees them)


DEFAULT_LIGHT_DIRECTION = (-50.0, 30.0, 100.0)  # PyBullet's tiny renderer with z up (measured: same pixels)


@dataclass
class Lighting:
    """The tiny renderer's light; the defaults are PyBullet's own, so the trained cell renders as before."""

    direction: tuple[float, float, float] = DEFAULT_LIGHT_DIRECTION  # towards the light, base frame
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ambient: float = 0.6
    diffuse: float = 0.35
    specular: float = 0.05
    shadows: bool = False

    def render_kwargs(self) -> dict:
        """getCameraImage arguments, all of them every time: PyBullet keeps light settings it was
        once given, so a render after a shifted light must restate the defaults."""
        return {"lightDirection": list(self.direction), "lightColor": list(self.color),
                "lightAmbientCoeff": self.ambient, "lightDiffuseCoeff": self.diffuse,
                "lightSpecularCoeff": self.specular, "shadow": int(self.shadows)}


@dataclass
class CellLook:
    camera: CameraConfig = field(default_factory=CameraConfig)
    width: int = 640  # rendered image [px]; the aspect ratio is width / height
    height: int = 480
    lighting: Lighting = field(default_factory=Lighting)
    table_color: tuple[float, float, float] = TABLE_BEIGE
    table_texture: str = "plain"  # one of TEXTURES
    texture_variant: int = 0  # which of the kind's TEXTURE_VARIANTS
    arm_joints: tuple[float, ...] | None = None  # None: HOME (folded behind the workspace)
    object_scale: float = 1.0  # blocks and bowls, relative to their nominal size
    distractors: int = 0  # unlabelled clutter objects (not blocks or bowls)
    noise_std: float = 0.0  # Gaussian sensor noise [0..255 units]
    jpeg_quality: int = 0  # JPEG round trip at this quality (1..100); 0: none


def camera_on_sphere(target: tuple[float, float, float], distance: float, azimuth_deg: float,
                     elevation_deg: float, roll_deg: float = 0.0, fov_y_deg: float = 45.0) -> CameraConfig:
    """A camera `distance` [m] from `target`, at azimuth (0: across the table, on +x, facing the
    robot; counter-clockwise seen from above) and elevation (90: straight down), turned by roll
    about its optical axis. Image up points away from the camera, so even 90 deg is well defined."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    t = np.asarray(target, dtype=float)
    eye = t + distance * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    forward = (t - eye) / np.linalg.norm(t - eye)
    up = -np.array([math.cos(az), math.sin(az), 0.0])  # horizontal, towards the far side
    up = up - forward * float(up @ forward)
    up /= np.linalg.norm(up)
    r = math.radians(roll_deg)  # Rodrigues about forward (up is perpendicular to it)
    up = up * math.cos(r) + np.cross(forward, up) * math.sin(r)
    return CameraConfig(eye=tuple(float(v) for v in eye), target=tuple(float(v) for v in t),
                        up=tuple(float(v) for v in up), fov_y_deg=float(fov_y_deg))


def texture_image(kind: str, variant: int, size: int = 128) -> np.ndarray:
    """A grey-level pattern [size, size, 3] uint8 (the table colour tints it): wood grain or speckle."""
    rng = np.random.default_rng([variant, sum(map(ord, kind))])
    if kind == "wood":
        y, x = np.mgrid[0:size, 0:size] / size
        phase = rng.uniform(0, 2 * np.pi)
        warp = 0.15 * np.sin(2 * np.pi * (y * rng.uniform(0.5, 2.0)) + phase)
        rings = np.sin(2 * np.pi * (x + warp) * rng.uniform(6, 14) + phase)
        grain = cv2.GaussianBlur(rng.normal(0, 1, (size, size)), (0, 0), 1.0)
        level = 0.78 + 0.16 * rings + 0.05 * grain
    else:
        level = 0.82 + 0.12 * cv2.GaussianBlur(rng.normal(0, 1, (size, size)), (0, 0), 1.5)
    return (np.clip(level, 0, 1)[..., None].repeat(3, axis=2) * 255).astype(np.uint8)


class TableTextures:
    """Loads each texture once per physics client (PyBullet keeps every texture it loads)."""

    def __init__(self, client: int):
        self.client = client
        self._ids: dict[tuple[str, int], int] = {}
        self._dir = Path(tempfile.mkdtemp(prefix="vlm_ros_textures_"))

    def get(self, kind: str, variant: int) -> int:
        key = (kind, variant % TEXTURE_VARIANTS)
        if key not in self._ids:
            path = self._dir / f"{kind}_{key[1]}.png"
            cv2.imwrite(str(path), texture_image(*key))
            self._ids[key] = p.loadTexture(str(path), physicsClientId=self.client)
        return self._ids[key]


def sensor_effects(rgb: np.ndarray, rng: np.random.Generator, noise_std: float, jpeg_quality: int) -> np.ndarray:
    """Gaussian noise, then a JPEG round trip, as a cheap camera and a compressed topic add them."""
    out = rgb
    if noise_std > 0:
        out = np.clip(out.astype(np.float32) + rng.normal(0.0, noise_std, out.shape), 0, 255).astype(np.uint8)
    if jpeg_quality > 0:
        ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])
    return out
