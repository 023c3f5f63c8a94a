"""The sensor_msgs/Image encodings we read and write, as numpy dtype and channel count.

Names and layouts follow `sensor_msgs/image_encodings.hpp`, so an image from any driver
that cv_bridge understands (minus Bayer and YUV) is understood here without cv_bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Encoding:
    """Pixel layout of one encoding: element type (native byte order) and channels per pixel."""

    name: str
    dtype: np.dtype
    channels: int

    @property
    def bytes_per_pixel(self) -> int:
        return self.dtype.itemsize * self.channels


def _table() -> dict[str, Encoding]:
    named = {
        "rgb8": ("u1", 3),
        "bgr8": ("u1", 3),
        "rgba8": ("u1", 4),
        "bgra8": ("u1", 4),
        "mono8": ("u1", 1),
        "rgb16": ("u2", 3),
        "bgr16": ("u2", 3),
        "rgba16": ("u2", 4),
        "bgra16": ("u2", 4),
        "mono16": ("u2", 1),
    }
    # OpenCV-style generic names: 8UC3, 16UC1, 32FC1, ...
    depths = {"8U": "u1", "8S": "i1", "16U": "u2", "16S": "i2", "32S": "i4", "32F": "f4", "64F": "f8"}
    for depth, dtype in depths.items():
        for channels in range(1, 5):
            named[f"{depth}C{channels}"] = (dtype, channels)
    return {name: Encoding(name, np.dtype(dtype), channels) for name, (dtype, channels) in named.items()}


ENCODINGS: dict[str, Encoding] = _table()

# Colour encodings `to_rgb8` converts, with the channel order that maps them to R, G, B.
COLOUR_CHANNELS: dict[str, tuple[int, ...]] = {
    "rgb8": (0, 1, 2),
    "bgr8": (2, 1, 0),
    "rgba8": (0, 1, 2),
    "bgra8": (2, 1, 0),
    "mono8": (0, 0, 0),
    "rgb16": (0, 1, 2),
    "bgr16": (2, 1, 0),
    "rgba16": (0, 1, 2),
    "bgra16": (2, 1, 0),
    "mono16": (0, 0, 0),
}

# Depth encodings `to_depth_m` converts, with the factor that turns a stored value into metres.
DEPTH_SCALE_M: dict[str, float] = {
    "16UC1": 1e-3,  # millimetres (OpenNI / RealSense convention)
    "mono16": 1e-3,  # some drivers label millimetre depth mono16
    "32FC1": 1.0,  # metres (REP 118)
}
