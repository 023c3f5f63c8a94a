"""Aspect-preserving preprocessing: the region chosen, the pixels moved, and the exact inverse."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.geometry.preprocess import AspectFit
from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig

CAMERAS = [(640, 480), (848, 480), (1280, 720), (640, 360), (480, 480), (480, 640), (1920, 1080), (320, 240)]


@pytest.mark.parametrize("width,height", CAMERAS)
@pytest.mark.parametrize("mode", ["auto", "crop", "letterbox", "stretch"])
def test_points_map_back_exactly(width, height, mode):
    fit = AspectFit.plan(width, height, 4 / 3, mode, out_size=(200, 150))
    rng = np.random.default_rng(width * height)
    for u, v in rng.uniform(0, [width, height], size=(50, 2)):
        x, y = fit.to_output(u, v)
        assert np.allclose(fit.to_original(x, y), (u, v), atol=1e-9)


@pytest.mark.parametrize("width,height", CAMERAS)
def test_auto_keeps_the_aspect_and_the_full_height_or_width(width, height):
    fit = AspectFit.plan(width, height, 4 / 3)
    x0, y0, rw, rh = fit.region
    assert abs(rw / rh - 4 / 3) < 0.01
    if width / height > 4 / 3:  # wider: a centred crop keeping every row
        assert fit.mode == "crop" and (y0, rh) == (0, height) and x0 == (width - rw) // 2
    elif width / height < 4 / 3:  # taller: padding, nothing cut
        assert fit.mode == "letterbox" and rh == height and rw > width and x0 == -((rw - width) // 2 + (rw - width) % 2)
    else:
        assert fit.mode == "none"


def test_image_content_lands_where_to_output_says():
    rgb = np.zeros((720, 1280, 3), np.uint8)
    rgb[500, 900] = 255
    for mode in ("crop", "letterbox", "stretch"):
        fit = AspectFit.plan(1280, 720, 4 / 3, mode)
        out = fit.apply(rgb)
        x, y = fit.to_output(900, 500)
        assert out.shape[:2] == (fit.out_size[1], fit.out_size[0])
        assert out[int(round(y)), int(round(x))].tolist() == [255, 255, 255], mode


def test_letterbox_pads_and_keeps_every_pixel():
    rgb = np.full((640, 480, 3), 7, np.uint8)
    fit = AspectFit.plan(480, 640, 4 / 3, "letterbox")
    out = fit.apply(rgb, pad_value=0)
    assert (out == 7).sum() == rgb.size  # all original pixels are there
    assert out.shape[1] / out.shape[0] == pytest.approx(4 / 3, abs=0.01)


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="unknown preprocessing mode"):
        AspectFit.plan(640, 480, 4 / 3, "squash")


def test_processor_is_unchanged_on_the_training_aspect():
    """640x480 (what the model was trained on) must give the same pixels and mapping as before fitting."""
    processor = ImageProcessor()
    rgb = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    u0, v0, u1, v1 = 24, 88, 616, 408  # the shipped crop in 640x480 pixels
    import cv2

    old = cv2.resize(np.ascontiguousarray(rgb[v0:v1, u0:u1]), (128, 128), interpolation=cv2.INTER_AREA)
    assert np.array_equal(processor.resize(rgb), old)
    assert processor.model_to_frame(64.0, 64.0, 640, 480) == pytest.approx((u0 + 64 * (u1 - u0) / 128 - 0.5,
                                                                           v0 + 64 * (v1 - v0) / 128 - 0.5))


@pytest.mark.parametrize("width,height", CAMERAS)
def test_processor_sees_the_same_scene_at_any_resolution_and_aspect(width, height):
    """A 16:9 render with the same vertical field of view holds the 4:3 render in its middle:
    the model input is then the same image, and model points map to the same scene points."""
    processor = ImageProcessor(ImageProcessorConfig())
    for x, y in [(0.0, 0.0), (64.0, 64.0), (127.9, 3.2)]:
        u, v = processor.model_to_frame(x, y, width, height)
        assert processor.frame_to_model(u, v, width, height) == pytest.approx((x, y), abs=1e-9)
    if width / height >= 4 / 3:
        scale = height / 480
        u, v = processor.model_to_frame(64.0, 64.0, width, height)
        u_ref, v_ref = processor.model_to_frame(64.0, 64.0, 640, 480)
        assert u == pytest.approx((u_ref + 0.5 - 320) * scale + width / 2 - 0.5, abs=0.6 * scale)
        assert v == pytest.approx((v_ref + 0.5) * scale - 0.5, abs=0.6 * scale)


def test_stretch_mode_is_the_old_squashing():
    processor = ImageProcessor(ImageProcessorConfig(aspect_mode="stretch"))
    assert processor.describe(1280, 720).startswith("stretch")
    assert ImageProcessor().describe(1280, 720) == "crop 1280x720 → x 160..1120, y 0..720"
