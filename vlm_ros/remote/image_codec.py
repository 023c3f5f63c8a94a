"""Frames as `image_url` data URLs, both ways.

The client shrinks and compresses a frame so a 640x480 image is a few tens of kB on the
wire (JPEG), or sends it losslessly (PNG, quality 0) when the remote plans must match the
local ones bit for bit. Points that come back are in the sent image's pixels; `scale`
maps them back to the frame.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import cv2
import numpy as np

from vlm_ros.core.errors import InputError

_DATA_URL = re.compile(r"^data:image/(?P<kind>[a-zA-Z0-9.+-]+);base64,(?P<data>.*)$", re.DOTALL)
MAX_DECODED_PIXELS = 4096 * 4096  # a server refuses larger images instead of running out of memory


@dataclass
class EncodedImage:
    url: str  # data:image/jpeg;base64,...
    width: int  # of the sent image [px]
    height: int
    scale: float  # frame px per sent px (>= 1 when the frame was shrunk)
    nbytes: int  # compressed size, before base64


def shrink(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink (never enlarge) so the longer side is at most max_side (0: keep) -> (image, frame px
    per image px). The per-axis ratios differ by rounding only; the larger keeps points on the frame."""
    height, width = rgb.shape[:2]
    if max_side <= 0 or max(height, width) <= max_side:
        return rgb, 1.0
    ratio = max(height, width) / max_side
    size = (max(1, round(width / ratio)), max(1, round(height / ratio)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return small, max(width / size[0], height / size[1])


def encode_image(rgb: np.ndarray, jpeg_quality: int = 90, max_side: int = 0) -> EncodedImage:
    """[H, W, 3] uint8 RGB -> data URL. jpeg_quality 1..100: JPEG; 0: PNG (lossless).
    max_side > 0 shrinks (never enlarges) so the longer side is at most max_side."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"Expected an [H, W, 3] uint8 image, got {rgb.shape} {rgb.dtype}.")
    rgb, scale = shrink(rgb, max_side)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if jpeg_quality > 0:
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        kind = "jpeg"
    else:
        ok, buf = cv2.imencode(".png", bgr)
        kind = "png"
    if not ok:
        raise InputError("The frame could not be encoded for the remote server.")
    data = base64.b64encode(buf.tobytes()).decode("ascii")
    return EncodedImage(f"data:image/{kind};base64,{data}", rgb.shape[1], rgb.shape[0], scale, int(buf.size))


def decode_image(url: str) -> np.ndarray:
    """A base64 data URL (PNG, JPEG, anything OpenCV reads) -> [H, W, 3] uint8 RGB.
    Raises InputError naming what is wrong; remote http(s) URLs are not fetched."""
    match = _DATA_URL.match(url.strip())
    if match is None:
        raise InputError("The image must be a base64 data URL (data:image/...;base64,...); "
                         "this server does not fetch URLs.")
    try:
        raw = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise InputError("The image data URL is not valid base64.") from None
    buf = np.frombuffer(raw, np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if bgr is None:
        raise InputError(f"The image ({match['kind']}, {len(raw)} bytes) could not be decoded.")
    if bgr.shape[0] * bgr.shape[1] > MAX_DECODED_PIXELS:
        raise InputError(f"The image is {bgr.shape[1]}x{bgr.shape[0]}; the limit is {MAX_DECODED_PIXELS} pixels.")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
