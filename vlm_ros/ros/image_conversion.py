"""sensor_msgs Image / CompressedImage ⇄ numpy, without cv_bridge (it is not on PyPI).

Honours row padding (`step`) and `is_bigendian`, and always returns owned, native-endian
copies, so callers may keep or modify arrays after the message is gone. Imports only
message types, never rclpy, so it works without a running graph.
"""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from vlm_ros.core.errors import ImageConversionError
from vlm_ros.ros.image_encodings import COLOUR_CHANNELS, DEPTH_SCALE_M, ENCODINGS, Encoding

__all__ = [
    "compressed_to_rgb8",
    "image_to_numpy",
    "numpy_to_image",
    "rgb8_to_compressed",
    "to_depth_m",
    "to_rgb8",
]

_COMPRESSED_FORMATS = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png"}


def _encoding(name: str) -> Encoding:
    try:
        return ENCODINGS[name]
    except KeyError:
        raise ImageConversionError(
            f"Image encoding {name!r} is not supported; supported encodings are: "
            f"{', '.join(ENCODINGS)}."
        ) from None


def _wire_dtype(enc: Encoding, is_bigendian: bool) -> np.dtype:
    return enc.dtype.newbyteorder(">" if is_bigendian else "<")


def _check_size(height: int, width: int, what: str) -> None:
    if height <= 0 or width <= 0:
        raise ImageConversionError(f"{what} is empty ({height}x{width} pixels); nothing to convert.")


def image_to_numpy(msg: Image) -> np.ndarray:
    """Decode an Image into an owned array: [H, W] for one channel, else [H, W, C]."""
    enc = _encoding(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    _check_size(height, width, "The image")
    row_bytes = width * enc.bytes_per_pixel
    if step < row_bytes:
        raise ImageConversionError(
            f"Image step {step} is smaller than width × bytes per pixel ({width} × "
            f"{enc.bytes_per_pixel} = {row_bytes}) for encoding {enc.name!r}."
        )
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size != height * step:
        raise ImageConversionError(
            f"Image data has {data.size} bytes but height × step is {height} × {step} = "
            f"{height * step}; the message is truncated or its header is wrong."
        )
    rows = np.ascontiguousarray(data.reshape(height, step)[:, :row_bytes])  # [H, W*bpp] bytes
    pixels = rows.view(_wire_dtype(enc, bool(msg.is_bigendian)))  # [H, W*C]
    shape = (height, width) if enc.channels == 1 else (height, width, enc.channels)
    return pixels.reshape(shape).astype(enc.dtype, copy=True)  # native byte order, owned


def numpy_to_image(
    array: np.ndarray,
    encoding: str,
    header: Header | None = None,
    step: int | None = None,
    is_bigendian: bool = False,
) -> Image:
    """Encode an array as an Image; `step` > width × bytes per pixel pads each row with zeros."""
    enc = _encoding(encoding)
    arr = np.asarray(array)
    if enc.channels == 1 and arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    expected = "[H, W]" if enc.channels == 1 else f"[H, W, {enc.channels}]"
    if arr.ndim != (2 if enc.channels == 1 else 3) or (enc.channels > 1 and arr.shape[2] != enc.channels):
        raise ImageConversionError(
            f"Encoding {enc.name!r} needs an array of shape {expected}, got {list(arr.shape)}."
        )
    if arr.dtype != enc.dtype:
        if not np.can_cast(arr.dtype, enc.dtype, casting="safe"):
            raise ImageConversionError(
                f"An array of dtype {arr.dtype} cannot be stored as {enc.name!r} ({enc.dtype}) "
                "without losing values; convert it explicitly first."
            )
        arr = arr.astype(enc.dtype)
    height, width = arr.shape[:2]
    _check_size(height, width, "The array")
    row_bytes = width * enc.bytes_per_pixel
    step = row_bytes if step is None else int(step)
    if step < row_bytes:
        raise ImageConversionError(
            f"Requested step {step} is smaller than width × bytes per pixel ({width} × "
            f"{enc.bytes_per_pixel} = {row_bytes}) for encoding {enc.name!r}."
        )
    wire = np.ascontiguousarray(arr, dtype=_wire_dtype(enc, is_bigendian))
    rows = wire.view(np.uint8).reshape(height, row_bytes)
    if step > row_bytes:
        padded = np.zeros((height, step), dtype=np.uint8)
        padded[:, :row_bytes] = rows
        rows = padded

    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width, msg.step = height, width, step
    msg.encoding = enc.name
    msg.is_bigendian = int(bool(is_bigendian))
    msg.data = rows.tobytes()
    return msg


def to_rgb8(msg: Image) -> np.ndarray:
    """Any colour or mono Image as [H, W, 3] uint8 RGB, the layout every model here expects."""
    order = COLOUR_CHANNELS.get(msg.encoding)
    if order is None:
        raise ImageConversionError(
            f"Encoding {msg.encoding!r} is not a colour encoding; to_rgb8 accepts "
            f"{', '.join(COLOUR_CHANNELS)}."
        )
    arr = image_to_numpy(msg)
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)  # keep the 8 most significant bits, as cv_bridge does
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr[:, :, list(order)])


def to_depth_m(msg: Image) -> np.ndarray:
    """A depth Image as [H, W] float32 metres; missing readings (0, inf) become NaN."""
    scale = DEPTH_SCALE_M.get(msg.encoding)
    if scale is None:
        raise ImageConversionError(
            f"Encoding {msg.encoding!r} is not a depth encoding; to_depth_m accepts "
            f"{', '.join(DEPTH_SCALE_M)} (16-bit in millimetres, float in metres)."
        )
    raw = image_to_numpy(msg)
    depth = raw.astype(np.float32) * np.float32(scale)
    depth[(raw == 0) | ~np.isfinite(depth)] = np.nan
    return depth


def _cv2():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - opencv is in requirements/python.txt
        raise ImageConversionError(
            "Compressed images need OpenCV: pip install opencv-python-headless."
        ) from exc
    return cv2


def compressed_to_rgb8(msg: CompressedImage) -> np.ndarray:
    """Decode a JPEG or PNG CompressedImage into [H, W, 3] uint8 RGB."""
    if "compresseddepth" in msg.format.lower():
        raise ImageConversionError(
            f"CompressedImage format {msg.format!r} is compressed depth, not colour; "
            "subscribe to the raw depth topic instead."
        )
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size == 0:
        raise ImageConversionError("CompressedImage has no data; nothing to decode.")
    cv2 = _cv2()
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageConversionError(
            f"CompressedImage data ({data.size} bytes, format {msg.format!r}) could not be "
            "decoded as JPEG or PNG."
        )
    return np.ascontiguousarray(bgr[:, :, ::-1])


def rgb8_to_compressed(
    array: np.ndarray, fmt: str = "jpeg", quality: int = 90, header: Header | None = None
) -> CompressedImage:
    """Encode [H, W, 3] uint8 RGB as a CompressedImage (format string as image_transport writes it)."""
    ext = _COMPRESSED_FORMATS.get(fmt.lower())
    if ext is None:
        raise ImageConversionError(
            f"Compression format {fmt!r} is not supported; use one of {', '.join(_COMPRESSED_FORMATS)}."
        )
    arr = np.asarray(array)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ImageConversionError(
            f"rgb8_to_compressed needs a uint8 array of shape [H, W, 3], got {arr.dtype} {list(arr.shape)}."
        )
    _check_size(arr.shape[0], arr.shape[1], "The array")
    cv2 = _cv2()
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(arr[:, :, ::-1]), params)
    if not ok:  # pragma: no cover - OpenCV fails only on invalid input, checked above
        raise ImageConversionError(f"OpenCV could not encode the image as {fmt}.")
    msg = CompressedImage()
    if header is not None:
        msg.header = header
    msg.format = f"rgb8; {'jpeg' if ext == '.jpg' else 'png'} compressed bgr8"
    msg.data = buf.tobytes()
    return msg
