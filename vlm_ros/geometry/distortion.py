"""Lens distortion from CameraInfo: which models are understood, and undistorting a pixel.

Grounding runs on the raw image the camera publishes; when that image is not rectified, the
model's pixel must be undistorted before it is back-projected, or targets drift towards the image
corners by centimetres. OpenCV does the maths: plumb_bob (k1 k2 p1 p2 k3) and rational_polynomial
(k1 k2 p1 p2 k3 k4 k5 k6, or the 12/14-coefficient forms OAK cameras report) through
cv2.undistortPoints, equidistant (fisheye k1..k4) through cv2.fisheye.undistortPoints. An unknown
model is an error unless the user says the image is rectified (`assume_rectified`), because
silently ignoring it would misplace every target.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vlm_ros.core.errors import InputError

COEFFICIENTS = {"plumb_bob": (5,), "rational_polynomial": (8, 5, 12, 14), "equidistant": (4,)}  # accepted D lengths


def checked_distortion(model: str, d: Sequence[float], assume_rectified: bool = False) -> tuple[str, tuple[float, ...]]:
    """(model, D) to use for back-projection; ("", ()) when the image is (or is declared) rectified."""
    coefficients = tuple(float(v) for v in d)
    if assume_rectified or not any(coefficients):
        return "", ()
    if not all(np.isfinite(coefficients)):
        raise InputError(f"camera_info distortion coefficients D={list(coefficients)} are not finite.")
    if model not in COEFFICIENTS:
        named = repr(model) if model else "an empty distortion_model"
        raise InputError(
            f"camera_info has {named} with non-zero D; supported are {', '.join(COEFFICIENTS)}. "
            "If the image is already rectified, set the assume_rectified parameter.")
    if len(coefficients) not in COEFFICIENTS[model]:
        raise InputError(f"camera_info {model} needs {' or '.join(map(str, COEFFICIENTS[model]))} "
                         f"coefficients in D, got {len(coefficients)}.")
    return model, coefficients


def undistort_normalized(u: float, v: float, k: np.ndarray, model: str, d: Sequence[float]) -> tuple[float, float]:
    """Raw pixel (u, v) → undistorted normalised image coordinates (x / z, y / z)."""
    point = np.array([[[u, v]]], dtype=np.float64)  # [1, 1, 2]
    coefficients = np.asarray(d, dtype=np.float64)
    if model == "equidistant":
        out = cv2.fisheye.undistortPoints(point, k, coefficients)
    else:  # iterative solve; more iterations than the default 5 for strong wide-angle lenses
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
        out = cv2.undistortPoints(point, k, coefficients, None, None, None, criteria)
    return float(out[0, 0, 0]), float(out[0, 0, 1])


def distort_normalized(x: float, y: float, k: np.ndarray, model: str, d: Sequence[float]) -> tuple[float, float]:
    """Normalised coordinates → raw pixel: the forward model (OpenCV projectPoints)."""
    point = np.array([[[x, y, 1.0]]], dtype=np.float64)
    coefficients = np.asarray(d, dtype=np.float64)
    zero = np.zeros(3)
    if model == "equidistant":
        out, _ = cv2.fisheye.projectPoints(point, zero, zero, k, coefficients)
    else:
        out, _ = cv2.projectPoints(point.reshape(1, 3), zero, zero, k, coefficients)
    return float(out.reshape(2)[0]), float(out.reshape(2)[1])
