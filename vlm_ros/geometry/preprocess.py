"""Aspect-preserving image preprocessing with an exact inverse, for every model.

A model trained on 4:3 frames that is fed a 16:9 camera squashed to its input size sees every
object squashed and misses them (issue 13: 99 % → 88 % correct object). `AspectFit` instead takes
a region of the reference aspect out of the frame: a centred crop when the frame is wider (the
full height stays, and the sides of a wide camera are outside the scene the model knows), a
letterbox (padding) when it is taller (nothing is cut). Points the model returns map back to the
original image exactly, through the same numbers.

Pixel convention (OpenCV): integer coordinates are pixel centres; pixel i spans [i - 0.5, i + 0.5).
No torch and no rclpy here, so every backend and family adapter can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MODES = ("auto", "crop", "letterbox", "stretch")


@dataclass(frozen=True)
class AspectFit:
    """original image region [x0, x0 + rw) x [y0, y0 + rh) (may reach outside: padding) → out_size image."""

    mode: str  # what was done: crop, letterbox, stretch or none
    original_size: tuple[int, int]  # (W, H) [px]
    region: tuple[int, int, int, int]  # (x0, y0, rw, rh) [px] in the original image
    out_size: tuple[int, int]  # (w, h) [px]

    @classmethod
    def plan(cls, width: int, height: int, aspect: float, mode: str = "auto",
             out_size: tuple[int, int] | None = None) -> AspectFit:
        """Choose the region of aspect `aspect` (width / height) for a width x height image."""
        if mode not in MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; use one of {', '.join(MODES)}")
        if width <= 0 or height <= 0 or not aspect > 0:
            raise ValueError(f"cannot fit a {width}x{height} image to aspect {aspect}")
        if mode == "auto":
            mode = "crop" if width / height > aspect else "letterbox"
        if mode == "stretch":
            region = (0, 0, width, height)
        else:
            wider = width / height > aspect
            if mode == "crop":  # cut the long side
                rw, rh = (round(height * aspect), height) if wider else (width, round(width / aspect))
            else:  # letterbox: pad the short side
                rw, rh = (width, round(width / aspect)) if wider else (round(height * aspect), height)
            region = ((width - rw) // 2, (height - rh) // 2, rw, rh)
        same = region == (0, 0, width, height) and abs(width / height - aspect) < 1e-3
        done = "none" if same or (mode != "stretch" and region == (0, 0, width, height)) else mode
        return cls(done, (width, height), region, out_size or (region[2], region[3]))

    def apply(self, rgb: np.ndarray, pad_value: int = 0) -> np.ndarray:
        """[H, W, C] image → [h, w, C] image of the region (padding filled with pad_value)."""
        height, width = rgb.shape[:2]
        if (width, height) != self.original_size:
            raise ValueError(f"this fit is for {self.original_size[0]}x{self.original_size[1]} images, "
                             f"got {width}x{height}")
        x0, y0, rw, rh = self.region
        if (x0, y0, rw, rh) == (0, 0, width, height):
            canvas = rgb
        elif x0 >= 0 and y0 >= 0:
            canvas = rgb[y0:y0 + rh, x0:x0 + rw]
        else:
            canvas = np.full((rh, rw, *rgb.shape[2:]), pad_value, dtype=rgb.dtype)
            sx, sy = max(0, x0), max(0, y0)
            ex, ey = min(width, x0 + rw), min(height, y0 + rh)
            canvas[sy - y0:ey - y0, sx - x0:ex - x0] = rgb[sy:ey, sx:ex]
        if (rw, rh) != self.out_size:
            shrink = self.out_size[0] < rw
            canvas = cv2.resize(np.ascontiguousarray(canvas), self.out_size,
                                interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return np.ascontiguousarray(canvas)

    def to_output(self, u: float, v: float) -> tuple[float, float]:
        """Original pixel (u, v) → pixel of the output image."""
        x0, y0, rw, rh = self.region
        w, h = self.out_size
        return ((u + 0.5 - x0) * w / rw - 0.5, (v + 0.5 - y0) * h / rh - 0.5)

    def to_original(self, x: float, y: float) -> tuple[float, float]:
        """Output pixel (x, y) → pixel of the original image (the exact inverse of to_output)."""
        x0, y0, rw, rh = self.region
        w, h = self.out_size
        return ((x + 0.5) * rw / w + x0 - 0.5, (y + 0.5) * rh / h + y0 - 0.5)

    def describe(self) -> str:
        """One line for logs and the plan's debug output, e.g. 'crop 1280x720 → x 160..1120, y 0..720'."""
        x0, y0, rw, rh = self.region
        w, h = self.original_size
        resized = f", resized to {self.out_size[0]}x{self.out_size[1]}" if self.out_size != (rw, rh) else ""
        return f"{self.mode} {w}x{h} → x {x0}..{x0 + rw}, y {y0}..{y0 + rh}{resized}"
