"""Round trips for every Image encoding (sizes, row padding, byte order) and each error case."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from vlm_ros.core.errors import ImageConversionError
from vlm_ros.ros.image_conversion import (
    compressed_to_rgb8,
    image_to_numpy,
    numpy_to_image,
    rgb8_to_compressed,
    to_depth_m,
    to_rgb8,
)
from vlm_ros.ros.image_encodings import COLOUR_CHANNELS, ENCODINGS

FAST = settings(max_examples=25, deadline=None)


def _shape(name: str, h: int, w: int) -> tuple[int, ...]:
    c = ENCODINGS[name].channels
    return (h, w) if c == 1 else (h, w, c)


@st.composite
def image_case(draw, names=tuple(ENCODINGS)):
    """An encoding, a random array for it (any bit pattern), row padding and byte order."""
    name = draw(st.sampled_from(names))
    enc = ENCODINGS[name]
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    shape = _shape(name, h, w)
    raw = draw(st.binary(min_size=int(np.prod(shape)) * enc.dtype.itemsize,
                         max_size=int(np.prod(shape)) * enc.dtype.itemsize))
    array = np.frombuffer(raw, dtype=enc.dtype).reshape(shape).copy()
    padding = draw(st.integers(0, 7))
    bigendian = draw(st.booleans())
    return name, array, padding, bigendian


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_every_encoding_round_trips_a_fixed_image(name: str) -> None:
    enc = ENCODINGS[name]
    array = (np.arange(np.prod(_shape(name, 3, 5))) * 7).astype(enc.dtype).reshape(_shape(name, 3, 5))
    for bigendian in (False, True):
        back = image_to_numpy(numpy_to_image(array, name, step=5 * enc.bytes_per_pixel + 3,
                                             is_bigendian=bigendian))
        assert back.dtype == enc.dtype and back.shape == array.shape
        np.testing.assert_array_equal(back, array)


@FAST
@given(image_case())
def test_round_trip_any_encoding_size_padding_and_byte_order(case) -> None:
    name, array, padding, bigendian = case
    enc = ENCODINGS[name]
    row_bytes = array.shape[1] * enc.bytes_per_pixel
    msg = numpy_to_image(array, name, step=row_bytes + padding, is_bigendian=bigendian)
    assert (msg.height, msg.width, msg.step) == (array.shape[0], array.shape[1], row_bytes + padding)
    assert len(msg.data) == msg.height * msg.step and msg.is_bigendian == int(bigendian)
    back = image_to_numpy(msg)
    assert back.dtype == enc.dtype and back.dtype.isnative
    assert back.tobytes() == array.tobytes()  # bitwise, so NaN payloads compare too


@FAST
@given(image_case(names=("16UC1", "32FC1", "rgb16")), st.booleans())
def test_byte_order_on_the_wire_is_what_the_flag_says(case, bigendian: bool) -> None:
    name, array, _, _ = case
    msg = numpy_to_image(array, name, is_bigendian=bigendian)
    wire = ENCODINGS[name].dtype.newbyteorder(">" if bigendian else "<")
    assert bytes(msg.data) == array.astype(wire).tobytes()


def test_returned_array_is_an_owned_copy() -> None:
    msg = numpy_to_image(np.zeros((2, 3), np.uint8), "mono8")
    out = image_to_numpy(msg)
    out[:] = 9
    assert bytes(msg.data) == bytes(6)


def test_header_is_kept_and_single_channel_accepts_trailing_axis() -> None:
    header = Header(frame_id="camera_optical")
    header.stamp.sec = 12
    msg = numpy_to_image(np.ones((2, 2, 1), np.uint16), "16UC1", header=header)
    assert msg.header.frame_id == "camera_optical" and msg.header.stamp.sec == 12
    assert image_to_numpy(msg).shape == (2, 2)


@FAST
@given(image_case(names=tuple(COLOUR_CHANNELS)))
def test_to_rgb8_converts_every_colour_encoding(case) -> None:
    name, array, padding, bigendian = case
    enc = ENCODINGS[name]
    msg = numpy_to_image(array, name, step=array.shape[1] * enc.bytes_per_pixel + padding,
                         is_bigendian=bigendian)
    rgb = to_rgb8(msg)
    assert rgb.dtype == np.uint8 and rgb.shape == (array.shape[0], array.shape[1], 3)
    eight = (array >> 8).astype(np.uint8) if enc.dtype == np.uint16 else array
    if eight.ndim == 2:
        expected = np.stack([eight] * 3, axis=-1)
    elif name.startswith("bgr"):
        expected = eight[:, :, [2, 1, 0]]
    else:
        expected = eight[:, :, :3]
    np.testing.assert_array_equal(rgb, expected)


def test_to_rgb8_swaps_bgr_and_drops_alpha() -> None:
    bgra = np.array([[[10, 20, 30, 255]]], np.uint8)
    np.testing.assert_array_equal(to_rgb8(numpy_to_image(bgra, "bgra8")), [[[30, 20, 10]]])
    np.testing.assert_array_equal(to_rgb8(numpy_to_image(bgra[:, :, :3], "bgr8")), [[[30, 20, 10]]])


def test_to_depth_m_from_millimetres_and_metres() -> None:
    mm = np.array([[0, 1000], [1500, 65535]], np.uint16)
    depth = to_depth_m(numpy_to_image(mm, "16UC1", is_bigendian=True))
    assert depth.dtype == np.float32 and np.isnan(depth[0, 0])
    np.testing.assert_allclose(depth[[0, 1, 1], [1, 0, 1]], [1.0, 1.5, 65.535], rtol=1e-6)

    m = np.array([[0.0, np.inf, 0.75, np.nan]], np.float32)
    depth = to_depth_m(numpy_to_image(m, "32FC1", step=32))
    assert np.isnan(depth[0, [0, 1, 3]]).all() and depth[0, 2] == np.float32(0.75)


def test_png_round_trip_is_exact_and_jpeg_is_close() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    png = rgb8_to_compressed(rgb, "png")
    assert png.format == "rgb8; png compressed bgr8"
    np.testing.assert_array_equal(compressed_to_rgb8(png), rgb)

    smooth = np.zeros((32, 48, 3), np.uint8)
    smooth[..., 0] = np.linspace(0, 255, 48, dtype=np.uint8)  # red ramp, so channel order matters
    smooth[..., 2] = 200
    jpeg = rgb8_to_compressed(smooth, "jpeg", quality=95)
    assert jpeg.format == "rgb8; jpeg compressed bgr8"
    back = compressed_to_rgb8(jpeg)
    assert back.shape == smooth.shape
    assert np.abs(back.astype(int) - smooth.astype(int)).mean() < 3.0


# ---- errors: each with a sentence that names the problem --------------------------------------


def _msg(encoding="rgb8", height=2, width=2, step=6, data_len=12) -> Image:
    return Image(height=height, width=width, step=step, encoding=encoding, data=bytes(data_len))


@pytest.mark.parametrize(
    ("msg", "fragment"),
    [
        (_msg(encoding="yuv422"), "'yuv422' is not supported; supported encodings are: rgb8"),
        (_msg(encoding=""), "'' is not supported"),
        (_msg(data_len=11), "11 bytes but height × step is 2 × 6 = 12"),
        (_msg(data_len=13), "13 bytes"),
        (_msg(step=5, data_len=10), "step 5 is smaller than width × bytes per pixel (2 × 3 = 6)"),
        (_msg(height=0, data_len=0), "empty (0x2 pixels)"),
        (_msg(width=0, step=0, data_len=0), "empty (2x0 pixels)"),
    ],
)
def test_bad_images_raise_clear_errors(msg: Image, fragment: str) -> None:
    with pytest.raises(ImageConversionError) as err:
        image_to_numpy(msg)
    assert fragment in str(err.value)


def test_bad_arrays_raise_clear_errors() -> None:
    with pytest.raises(ImageConversionError, match=r"'bogus' is not supported"):
        numpy_to_image(np.zeros((2, 2), np.uint8), "bogus")
    with pytest.raises(ImageConversionError, match=r"shape \[H, W, 3\], got \[2, 2\]"):
        numpy_to_image(np.zeros((2, 2), np.uint8), "rgb8")
    with pytest.raises(ImageConversionError, match=r"float64 cannot be stored as '16UC1'"):
        numpy_to_image(np.zeros((2, 2)), "16UC1")
    with pytest.raises(ImageConversionError, match=r"step 3 is smaller"):
        numpy_to_image(np.zeros((2, 2), np.uint16), "mono16", step=3)
    with pytest.raises(ImageConversionError, match=r"empty"):
        numpy_to_image(np.zeros((0, 4), np.uint8), "mono8")
    assert image_to_numpy(numpy_to_image(np.ones((1, 1), np.uint8), "mono16")).dtype == np.uint16


def test_conversion_helpers_reject_the_wrong_kind_of_image() -> None:
    with pytest.raises(ImageConversionError, match=r"'32FC1' is not a colour encoding"):
        to_rgb8(numpy_to_image(np.zeros((1, 1), np.float32), "32FC1"))
    with pytest.raises(ImageConversionError, match=r"'rgb8' is not a depth encoding"):
        to_depth_m(numpy_to_image(np.zeros((1, 1, 3), np.uint8), "rgb8"))


def test_bad_compressed_images_raise_clear_errors() -> None:
    with pytest.raises(ImageConversionError, match=r"no data"):
        compressed_to_rgb8(CompressedImage(format="jpeg"))
    with pytest.raises(ImageConversionError, match=r"could not be decoded as JPEG or PNG"):
        compressed_to_rgb8(CompressedImage(format="jpeg", data=b"not an image at all"))
    with pytest.raises(ImageConversionError, match=r"compressed depth"):
        compressed_to_rgb8(CompressedImage(format="16UC1; compressedDepth png", data=b"x"))
    with pytest.raises(ImageConversionError, match=r"'webp' is not supported"):
        rgb8_to_compressed(np.zeros((2, 2, 3), np.uint8), "webp")
    with pytest.raises(ImageConversionError, match=r"uint8 array of shape \[H, W, 3\]"):
        rgb8_to_compressed(np.zeros((2, 2, 4), np.uint8))


def test_module_does_not_import_rclpy() -> None:
    import subprocess
    import sys

    code = ("import sys, vlm_ros.ros.image_conversion; "
            "sys.exit(1 if any(m == 'rclpy' or m.startswith('rclpy.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
