"""Domain randomisation of the training cell: every range is one documented field of `Randomization`.

`sample_look` draws a `vlm_ros.sim.look.CellLook` from the ranges; `keeps_objects_in_view` is the
check a rendered scene must pass (every labelled object inside the model's crop, not hidden behind
the arm), else the renderer draws again. The camera stays known to the pipeline (CameraInfo +
camera_to_base), so the model only has to find objects in pixels: no range asks it to know the pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlm_ros.sim.look import (
    DEFAULT_LIGHT_DIRECTION,
    TABLE_BEIGE,
    TEXTURE_VARIANTS,
    CellLook,
    Lighting,
    camera_on_sphere,
)

# Named table colours the sampler mixes in (the rest are uniform in RGB): the cells users have.
TABLE_PALETTE: dict[str, tuple[float, float, float]] = {
    "beige": TABLE_BEIGE, "gray": (0.50, 0.50, 0.50), "white": (0.95, 0.95, 0.93), "black": (0.06, 0.06, 0.07),
    "light wood": (0.76, 0.60, 0.40), "dark wood": (0.36, 0.22, 0.12), "green mat": (0.20, 0.36, 0.25),
}
ASPECTS = {"4:3": (4, 3), "16:9": (16, 9)}


@dataclass
class Randomization:
    """Ranges sampled uniformly (min, max) unless said otherwise. Defaults: the v2 recipe's."""

    # camera on a sphere around the look-at point (sim.look.camera_on_sphere)
    # eye to look-at point [m] at a 45 deg FOV (trained cell: 0.74), scaled by tan(22.5 deg) / tan(fov / 2)
    # for the sampled FOV, so a wide lens comes closer and the table keeps its size in the image
    distance: tuple[float, float] = (0.55, 1.0)
    azimuth_deg: tuple[float, float] = (0.0, 360.0)  # all round (0: across the table, facing the robot)
    elevation_deg: tuple[float, float] = (25.0, 90.0)  # above the table plane (90: straight down; trained 61.7)
    roll_deg: tuple[float, float] = (-15.0, 15.0)  # about the optical axis
    look_at: tuple[float, float, float] = (0.50, 0.0, 0.0)  # look-at centre, base frame [m] (the workspace's)
    look_at_jitter: float = 0.06  # each of x, y moves by U(-j, j) [m]
    fov_y_deg: tuple[float, float] = (35.0, 70.0)  # vertical field of view (trained 45)
    aspects: tuple[str, ...] = ("4:3", "16:9")  # keys of ASPECTS, equally likely
    # light (sim.look.Lighting); direction: elevation above the table, any azimuth
    light_elevation_deg: tuple[float, float] = (10.0, 90.0)
    light_default_share: float = 0.15  # share of scenes lit from PyBullet's default direction
    light_tint: float = 0.25  # each RGB channel of the light colour is U(1 - t, 1)
    ambient: tuple[float, float] = (0.15, 0.9)
    diffuse: tuple[float, float] = (0.1, 0.7)
    specular: tuple[float, float] = (0.0, 0.3)
    shadow_share: float = 0.5  # share of scenes with shadows
    # table: a named palette colour (half the scenes) or any RGB, plain or textured
    table_palette_share: float = 0.5
    table_rgb: tuple[float, float] = (0.03, 0.97)  # each channel of a free table colour
    table_textures: tuple[str, ...] = ("plain", "wood", "speckle")  # equally likely (sim.look.TEXTURES)
    # the arm: this share of scenes poses it at random inside its joint limits, around HOME
    arm_pose_share: float = 0.5
    arm_joint_spread: float = 1.2  # each joint moves U(-s, s) [rad] from HOME, clipped to the limits
    object_scale: tuple[float, float] = (0.75, 1.25)  # blocks and bowls together, steps of 5 %
    distractors: tuple[int, int] = (0, 4)  # unlabelled clutter objects (inclusive)
    noise_std: tuple[float, float] = (0.0, 6.0)  # Gaussian sensor noise [0..255]
    jpeg_share: float = 0.5  # share of scenes sent through JPEG
    jpeg_quality: tuple[int, int] = (35, 95)  # inclusive
    render_height: int = 240  # rendered image height [px] (width from the aspect); labels scale to any size


TRAINED_CELL = CellLook()  # what the shipped tabletop-tiny was trained on


def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


def sample_look(rng: np.random.Generator, r: Randomization, arm_limits: tuple[np.ndarray, np.ndarray] | None = None,
                home: np.ndarray | None = None) -> CellLook:
    """One cell: camera, light, table, arm, object size, clutter and sensor, drawn from `r`."""
    jitter = rng.uniform(-r.look_at_jitter, r.look_at_jitter, size=2)
    target = (r.look_at[0] + float(jitter[0]), r.look_at[1] + float(jitter[1]), r.look_at[2])
    distance, azimuth = _uniform(rng, r.distance), _uniform(rng, r.azimuth_deg)
    elevation = _uniform(rng, r.elevation_deg)
    roll, fov = _uniform(rng, r.roll_deg), _uniform(rng, r.fov_y_deg)
    distance *= np.tan(np.radians(22.5)) / np.tan(np.radians(fov / 2))
    camera = camera_on_sphere(target, float(distance), azimuth, elevation, roll, fov)
    aw, ah = ASPECTS[r.aspects[int(rng.integers(len(r.aspects)))]]
    height = r.render_height
    width = int(round(height * aw / ah))
    direction = DEFAULT_LIGHT_DIRECTION
    if rng.random() >= r.light_default_share:
        el, az = np.radians(_uniform(rng, r.light_elevation_deg)), rng.uniform(0, 2 * np.pi)
        direction = (float(np.cos(el) * np.cos(az)), float(np.cos(el) * np.sin(az)), float(np.sin(el)))
    lighting = Lighting(direction=direction)
    lighting.color = tuple(float(c) for c in rng.uniform(1 - r.light_tint, 1.0, size=3))
    lighting.ambient, lighting.diffuse = _uniform(rng, r.ambient), _uniform(rng, r.diffuse)
    lighting.specular, lighting.shadows = _uniform(rng, r.specular), bool(rng.random() < r.shadow_share)
    if rng.random() < r.table_palette_share:
        names = list(TABLE_PALETTE)
        table = TABLE_PALETTE[names[int(rng.integers(len(names)))]]
    else:
        table = tuple(float(c) for c in rng.uniform(*r.table_rgb, size=3))
    texture = r.table_textures[int(rng.integers(len(r.table_textures)))]
    arm = None
    if arm_limits is not None and home is not None and rng.random() < r.arm_pose_share:
        q = home + rng.uniform(-r.arm_joint_spread, r.arm_joint_spread, size=len(home))
        arm = tuple(float(v) for v in np.clip(q, arm_limits[0], arm_limits[1]))
    jpeg = int(rng.integers(r.jpeg_quality[0], r.jpeg_quality[1] + 1)) if rng.random() < r.jpeg_share else 0
    return CellLook(camera=camera, width=width, height=height, lighting=lighting, table_color=table,
                    table_texture=texture, texture_variant=int(rng.integers(TEXTURE_VARIANTS)), arm_joints=arm,
                    object_scale=_uniform(rng, r.object_scale),
                    distractors=int(rng.integers(r.distractors[0], r.distractors[1] + 1)),
                    noise_std=_uniform(rng, r.noise_std), jpeg_quality=jpeg)


def keeps_objects_in_view(sim, processor, depth: np.ndarray, margin: float = 0.04,
                          occlusion_tol: float = 0.015) -> bool:
    """Every labelled object's grasp point and every named location lie inside the model's crop
    (margin: a fraction of it), in front of the camera, and blocks are not hidden behind something
    nearer (the arm), per the depth image."""
    from vlm_ros.core.vocabulary import LOCATIONS

    cam = sim.camera
    u0, v0, u1, v1 = processor.crop_box(cam.width, cam.height)
    mu, mv = margin * (u1 - u0), margin * (v1 - v0)
    points = [(o.top_point(), o.kind) for o in sim.objects()]
    points += [(np.array([x, y, 0.0]), "location") for x, y in LOCATIONS.values()]
    for top, kind in points:
        pc = cam.base_to_camera @ np.append(top, 1.0)
        if pc[2] <= cam.config.near:
            return False
        u, v = cam.project(top)
        if not (u0 + mu <= u <= u1 - mu and v0 + mv <= v <= v1 - mv):
            return False
        if kind == "block":  # a bowl's floor may hide behind its own rim at low elevations
            seen = depth[int(round(min(max(v, 0), cam.height - 1))), int(round(min(max(u, 0), cam.width - 1)))]
            if not np.isfinite(seen) or seen < pc[2] - occlusion_tol:
                return False
    return True
