"""Rendered scenes for training and evaluation, from the same sim camera the bench uses.

A scene is rendered once and reused with many instructions. Each stored scene keeps the
model-resolution image and, per object, its label and grasp point (the sim's `top_point`)
as a pixel of its reference frame (640 x 480 for the trained cell) plus the 3D point, so errors
can be measured in cm. Domain-randomised scenes (training.randomization) also keep their frame
size, camera (intrinsics + camera_to_base) and the named locations' pixels, which move with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vlm_ros.core.vocabulary import COLORS, LOCATIONS
from vlm_ros.models.processor import ImageProcessor

FRAME_W, FRAME_H = 640, 480  # the reference frame every stored pixel refers to


@dataclass
class SceneObjectInfo:
    label: str  # "red block"
    kind: str  # "block" | "bowl"
    color: str
    pixel: tuple[float, float]  # top point, [u, v] px of the 640 x 480 frame
    point: tuple[float, float, float]  # top point, base frame [m]


@dataclass
class Scene:
    seed: int
    objects: list[SceneObjectInfo] = field(default_factory=list)
    image: np.ndarray | None = None  # [S, S, 3] uint8 model image
    frame: np.ndarray | None = None  # [480, 640, 3] uint8, only when rendered at full size
    frame_size: tuple[int, int] = (FRAME_W, FRAME_H)  # (width, height) the pixels refer to
    locations: dict[str, tuple[float, float]] | None = None  # named location -> pixel; None: the dataset's
    camera: dict | None = None  # fx, fy, cx, cy, width, height, camera_to_base [16]; None: the reference camera


def sample_colors(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Block and bowl colours: 0-3 distinct bowls (none in 20 % of scenes), 2-6 blocks, sometimes
    with repeated colours. (Seeds below 10,016,000 of the shipped model's data always had a bowl.)"""
    palette = list(COLORS)
    n_bowls = 0 if rng.random() < 0.2 else int(rng.integers(1, 4))
    bowls = [str(c) for c in rng.choice(palette, size=n_bowls, replace=False)]
    n_blocks = int(rng.integers(2, 7))
    blocks = [str(c) for c in rng.choice(palette, size=n_blocks, replace=False)]
    if rng.random() < 0.4:  # a colour family for "all the red blocks"
        repeat = int(rng.integers(2, 4))
        blocks = blocks[: max(1, n_blocks - repeat)] + [blocks[0]] * (repeat - 1)
        rng.shuffle(blocks)
    return blocks, bowls


class SceneRenderer:
    """Owns one headless TabletopSim and turns seeds into Scenes."""

    def __init__(self, processor: ImageProcessor, width: int = FRAME_W, height: int = FRAME_H,
                 randomization=None):
        """randomization: a training.randomization.Randomization, or None for the trained cell."""
        from vlm_ros.sim.scene import TabletopSim  # pybullet only when rendering

        if width * FRAME_H != height * FRAME_W:
            raise ValueError(f"render size {width}x{height} must keep the 4:3 aspect of {FRAME_W}x{FRAME_H}")
        self.sim = TabletopSim(gui=False, width=width, height=height)
        self.processor = processor
        self.scale = FRAME_W / width
        self.randomization = randomization

    def to_frame(self, uv: tuple[float, float]) -> tuple[float, float]:
        """Pixel of the rendered image -> pixel of the 640 x 480 reference frame."""
        return ((uv[0] + 0.5) * self.scale - 0.5, (uv[1] + 0.5) * self.scale - 0.5)

    def location_pixels(self) -> dict[str, tuple[float, float]]:
        return {name: self.to_frame(self.sim.project(np.array([x, y, 0.0]))) for name, (x, y) in LOCATIONS.items()}

    def render(self, seed: int, blocks: list[str] | None = None, bowls: list[str] | None = None,
               keep_frame: bool = False) -> Scene:
        if self.randomization is not None:
            from vlm_ros.training.randomized_render import render_randomized

            return render_randomized(self, seed, blocks, bowls, keep_frame)
        return self.render_layout(seed, blocks, bowls, keep_frame)

    def layout(self, seed: int, blocks: list[str] | None = None, bowls: list[str] | None = None) -> list:
        """Reset the sim to the seed's objects (sampled colours unless given) -> its SceneObjects."""
        from vlm_ros.sim.layout import LayoutError

        rng = np.random.default_rng([seed, 7])
        for attempt in range(20):
            b, w = (blocks, bowls) if blocks is not None or bowls is not None else sample_colors(rng)
            try:
                objects = self.sim.reset(seed + 1_000_003 * attempt, blocks=b, bowls=w)
                break
            except LayoutError:
                if blocks is not None or bowls is not None:
                    raise
        else:
            raise RuntimeError(f"no layout found for seed {seed}")
        return objects

    def render_layout(self, seed: int, blocks: list[str] | None = None, bowls: list[str] | None = None,
                      keep_frame: bool = False) -> Scene:
        """The trained cell: lay out the seed's objects and photograph them from the default camera."""
        objects = self.layout(seed, blocks, bowls)
        rgb = self.sim.render().rgb
        scene = Scene(seed=seed, image=self.processor.resize(rgb), frame=rgb if keep_frame else None)
        for o in objects:
            top = o.top_point()
            scene.objects.append(SceneObjectInfo(o.label, o.kind, o.color, self.to_frame(self.sim.project(top)),
                                                 tuple(float(v) for v in top)))
        return scene

    def close(self) -> None:
        self.sim.close()


def _scene_meta(s: Scene) -> dict:
    meta = {"seed": s.seed, "objects": [asdict(o) for o in s.objects]}
    if s.frame_size != (FRAME_W, FRAME_H) or s.locations is not None or s.camera is not None:
        meta.update(frame_size=list(s.frame_size), locations=s.locations, camera=s.camera)
    return meta


def save_shard(path: Path, scenes: list[Scene]) -> None:
    meta = [_scene_meta(s) for s in scenes]
    np.savez_compressed(path, images=np.stack([s.image for s in scenes]), meta=json.dumps(meta))


def load_shards(paths: list[Path]) -> list[Scene]:
    scenes: list[Scene] = []
    for path in paths:
        with np.load(path) as data:
            images, meta = data["images"], json.loads(str(data["meta"]))
        for image, m in zip(images, meta):
            objs = [SceneObjectInfo(o["label"], o["kind"], o["color"], tuple(o["pixel"]), tuple(o["point"]))
                    for o in m["objects"]]
            locations = {k: tuple(v) for k, v in m["locations"].items()} if m.get("locations") else None
            scenes.append(Scene(seed=m["seed"], objects=objs, image=image,
                                frame_size=tuple(m.get("frame_size", (FRAME_W, FRAME_H))), locations=locations,
                                camera=m.get("camera")))
    return scenes
