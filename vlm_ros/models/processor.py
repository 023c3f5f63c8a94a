"""Image preprocessing and pixel mapping between the camera frame and the model's input.

The model sees a fixed region of interest of the frame (the table), resized to a square
S x S image. The crop is stored as fractions of a frame of the training aspect ratio
(`reference_aspect`, 4:3). A frame of another aspect first goes through an aspect-preserving
`AspectFit` (vlm_ros/geometry/preprocess.py: centred crop when wider, letterbox when taller,
`aspect_mode`), so a 16:9 camera shows the model the same undistorted scene; every point maps
back exactly. Pixel convention (OpenCV): integer coordinates are pixel centres.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vlm_ros.geometry.preprocess import AspectFit

PROCESSOR_FILE = "processor_config.json"


@dataclass
class ImageProcessorConfig:
    image_size: int = 128  # model input side [px]
    # region of interest (u0, v0, u1, v1) as fractions of the frame width/height
    crop: tuple[float, float, float, float] = (24 / 640, 88 / 480, 616 / 640, 408 / 480)
    mean: float = 0.5  # pixel = (rgb / 255 - mean) / std, all channels
    std: float = 0.5
    reference_aspect: float = 4 / 3  # width / height of the frames `crop` was chosen on (the sim's 640x480)
    aspect_mode: str = "auto"  # auto | crop | letterbox | stretch (stretch: the old squashing behaviour)


class ImageProcessor:
    def __init__(self, config: ImageProcessorConfig | None = None):
        self.config = config or ImageProcessorConfig()

    def aspect_fit(self, width: int, height: int) -> AspectFit:
        """How a width x height frame is brought to the reference aspect before the crop."""
        return AspectFit.plan(width, height, self.config.reference_aspect, self.config.aspect_mode)

    def describe(self, width: int, height: int) -> str:
        """The preprocessing of a width x height frame in words, for the plan's debug output."""
        return self.aspect_fit(width, height).describe()

    def crop_box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Crop (u0, v0, u1, v1) in whole pixels of a width x height frame of the reference aspect."""
        f = self.config.crop
        return (round(f[0] * width), round(f[1] * height), round(f[2] * width), round(f[3] * height))

    def resize(self, rgb: np.ndarray) -> np.ndarray:
        """[H, W, 3] uint8 frame -> [S, S, 3] uint8 model image (area interpolation)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an [H, W, 3] RGB image, got shape {rgb.shape}")
        fitted = self.aspect_fit(rgb.shape[1], rgb.shape[0]).apply(rgb)
        u0, v0, u1, v1 = self.crop_box(fitted.shape[1], fitted.shape[0])
        s = self.config.image_size
        return cv2.resize(np.ascontiguousarray(fitted[v0:v1, u0:u1]), (s, s), interpolation=cv2.INTER_AREA)

    def normalize(self, images: np.ndarray) -> torch.Tensor:
        """[B, S, S, 3] or [S, S, 3] uint8 -> float tensor [B, 3, S, S]."""
        x = torch.from_numpy(np.ascontiguousarray(images)).float()
        if x.ndim == 3:
            x = x[None]
        x = x.permute(0, 3, 1, 2) / 255.0  # [B, 3, S, S]
        return (x - self.config.mean) / self.config.std

    def __call__(self, rgb: np.ndarray) -> torch.Tensor:
        return self.normalize(self.resize(rgb))

    def frame_to_model(self, u: float, v: float, width: int, height: int) -> tuple[float, float]:
        """Frame pixel (u, v) -> continuous model coordinates in [0, S) (pixel i spans [i, i + 1))."""
        fit = self.aspect_fit(width, height)
        u, v = fit.to_output(u, v)
        u0, v0, u1, v1 = self.crop_box(*fit.out_size)
        s = self.config.image_size
        return ((u + 0.5 - u0) * s / (u1 - u0), (v + 0.5 - v0) * s / (v1 - v0))

    def model_to_frame(self, x: float, y: float, width: int, height: int) -> tuple[float, float]:
        """Inverse of frame_to_model."""
        fit = self.aspect_fit(width, height)
        u0, v0, u1, v1 = self.crop_box(*fit.out_size)
        s = self.config.image_size
        return fit.to_original(u0 + x * (u1 - u0) / s - 0.5, v0 + y * (v1 - v0) / s - 0.5)

    def save_pretrained(self, path: str | Path) -> None:
        Path(path, PROCESSOR_FILE).write_text(json.dumps(asdict(self.config), indent=2) + "\n")

    @classmethod
    def from_pretrained(cls, path: str | Path) -> ImageProcessor:
        data = json.loads(Path(path, PROCESSOR_FILE).read_text())
        data["crop"] = tuple(data["crop"])  # files written before aspect fitting get the defaults
        return cls(ImageProcessorConfig(**data))
