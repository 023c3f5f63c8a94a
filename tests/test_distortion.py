"""Lens distortion: back-projection undoes OpenCV's projectPoints for every supported model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import CameraIntrinsics
from vlm_ros.geometry.distortion import checked_distortion
from vlm_ros.geometry.projection import back_project, project

K = dict(fx=600.0, fy=605.0, cx=322.0, cy=241.0, width=640, height=480)
MODELS = {
    "plumb_bob": (-0.28, 0.09, 0.001, -0.0015, -0.012),  # a typical webcam / RealSense colour lens
    "rational_polynomial": (2.1, 0.8, 0.0005, -0.0004, 0.02, 2.45, 1.3, 0.11),  # a ZED / Azure Kinect style lens
    "equidistant": (-0.012, 0.031, -0.025, 0.006),  # a fisheye
    "rational_polynomial-14": (9.2, -5.1, 0.0003, -0.0002, 2.4, 9.6, -4.9, 2.3, 0.001, -0.0005, 0.0008, 0.0002,
                               0.0, 0.0),  # the 14 coefficients an OAK camera reports
}


def scene_points(n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(3)
    z = rng.uniform(0.4, 1.5, n)
    x = rng.uniform(-0.45, 0.45, n) * z
    y = rng.uniform(-0.33, 0.33, n) * z
    return np.stack([x, y, z], axis=1)  # [N, 3] optical frame


@pytest.mark.parametrize("model", sorted(MODELS))
def test_back_project_inverts_opencv_project_points(model):
    intrinsics = CameraIntrinsics(**K, distortion_model=model.split("-")[0], d=MODELS[model])
    points = scene_points()
    k, d = intrinsics.matrix(), np.array(MODELS[model])
    if model == "equidistant":
        pixels, _ = cv2.fisheye.projectPoints(points[:, None, :], np.zeros(3), np.zeros(3), k, d)
    else:
        pixels, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), k, d)
    pixels = pixels.reshape(-1, 2)
    worst = 0.0
    for (u, v), point in zip(pixels, points):
        worst = max(worst, float(np.abs(back_project(u, v, point[2], intrinsics) - point).max()))
        assert np.allclose(project(point, intrinsics), (u, v), atol=1e-6)
    assert worst < 1e-5  # metres
    # and ignoring the distortion would be centimetres off near the corners
    plain = CameraIntrinsics(**K)
    errors = [np.abs(back_project(u, v, p[2], plain) - p).max() for (u, v), p in zip(pixels, points)]
    assert max(errors) > 0.01


def test_unknown_model_is_an_error_unless_assume_rectified():
    with pytest.raises(InputError, match=r"'kannala_brandt'.*assume_rectified"):
        checked_distortion("kannala_brandt", [0.1, 0.0, 0.0, 0.0])
    assert checked_distortion("kannala_brandt", [0.1, 0.0, 0.0, 0.0], assume_rectified=True) == ("", ())
    with pytest.raises(InputError, match="empty distortion_model"):
        checked_distortion("", [0.1, 0.0, 0.0, 0.0, 0.0])


def test_zero_coefficients_need_no_model_and_wrong_lengths_are_errors():
    assert checked_distortion("", []) == ("", ())
    assert checked_distortion("anything", [0.0] * 5) == ("", ())
    assert checked_distortion("plumb_bob", [0.1, 0, 0, 0, 0]) == ("plumb_bob", (0.1, 0.0, 0.0, 0.0, 0.0))
    with pytest.raises(InputError, match="needs 5 coefficients"):
        checked_distortion("plumb_bob", [0.1, 0.0, 0.0])
    with pytest.raises(InputError, match="not finite"):
        checked_distortion("plumb_bob", [float("nan"), 0, 0, 0, 0])
