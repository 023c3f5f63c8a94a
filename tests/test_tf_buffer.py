"""The plain-Python tf buffer: chains, stamps, interpolation, errors, bounded wait."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from vlm_ros.geometry.tf_buffer import ExtrapolationError, TransformBuffer, TransformLookupError
from vlm_ros.geometry.transforms import matrix_to_pose, pose_to_matrix

S = 1_000_000_000  # ns per second


def yaw(angle: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2))


def matrix(translation, rotation) -> np.ndarray:
    return pose_to_matrix([*translation, *rotation])


OPTICAL = (-0.5, 0.5, -0.5, 0.5)  # camera_link (x forward) → optical (z forward), as a URDF publishes it


def robot_buffer() -> TransformBuffer:
    tf = TransformBuffer()
    tf.set_transform("world", "base_link", 0, (1.0, 2.0, 0.0), yaw(0.3), static=True)
    tf.set_transform("base_link", "camera_link", 0, (0.1, 0.0, 0.5), (0.0, 0.3826834, 0.0, 0.9238795), static=True)
    tf.set_transform("camera_link", "camera_color_optical_frame", 0, (0.0, 0.015, 0.0), OPTICAL, static=True)
    return tf


def test_static_chain_composes_through_intermediate_frames():
    tf = robot_buffer()
    expected = (matrix((0.1, 0.0, 0.5), (0.0, 0.3826834, 0.0, 0.9238795))
                @ matrix((0.0, 0.015, 0.0), OPTICAL))
    assert np.allclose(tf.lookup("base_link", "camera_color_optical_frame"), expected, atol=1e-9)
    # across the root and back: world ← optical, and its inverse
    world = matrix((1.0, 2.0, 0.0), yaw(0.3)) @ expected
    assert np.allclose(tf.lookup("world", "camera_color_optical_frame", 5 * S), world, atol=1e-9)
    assert np.allclose(tf.lookup("camera_color_optical_frame", "world"), np.linalg.inv(world), atol=1e-9)


def test_dynamic_edge_is_interpolated_at_the_stamp():
    tf = robot_buffer()
    for i in range(11):  # a joint turning at 0.5 rad/s, sampled at 10 Hz, and sliding 0.1 m/s in x
        t = 100 * S + i * S // 10
        tf.set_transform("base_link", "wrist", t, (0.01 * i, 0.0, 0.3), yaw(0.05 * i))
    between = tf.lookup("base_link", "wrist", 100 * S + 25 * S // 100)  # halfway between samples 2 and 3
    assert np.allclose(between, matrix((0.025, 0.0, 0.3), yaw(0.125)), atol=1e-9)
    assert np.allclose(tf.lookup("base_link", "wrist", 0), matrix((0.1, 0.0, 0.3), yaw(0.5)), atol=1e-9)


def test_slerp_takes_the_short_way_round():
    tf = TransformBuffer()
    tf.set_transform("a", "b", 1 * S, (0, 0, 0), yaw(np.pi - 0.1))
    tf.set_transform("a", "b", 2 * S, (0, 0, 0), yaw(-np.pi + 0.1))  # 0.2 rad further, across ±π
    pose = matrix_to_pose(tf.lookup("a", "b", 3 * S // 2))
    assert np.isclose(abs(pose[5]), 1.0, atol=1e-9)  # halfway is a yaw of π, not of 0


def test_missing_frame_names_the_frames_that_exist():
    tf = TransformBuffer()
    tf.set_transform("world", "camera_link", 0, (0, 0, 0), (0, 0, 0, 1), static=True)
    with pytest.raises(TransformLookupError) as info:
        tf.lookup("base_link", "camera_color_optical_frame")
    message = str(info.value)
    assert "no transform base_link ← camera_color_optical_frame" in message
    assert "known frames: camera_link, world" in message
    assert "never published" in message


def test_disconnected_trees_are_an_error():
    tf = TransformBuffer()
    tf.set_transform("a", "b", 0, (0, 0, 0), (0, 0, 0, 1), static=True)
    tf.set_transform("c", "d", 0, (0, 0, 0), (0, 0, 0, 1), static=True)
    with pytest.raises(TransformLookupError, match="not connected"):
        tf.lookup("a", "d")


def test_stamp_outside_the_data_is_an_extrapolation_error():
    tf = TransformBuffer(tolerance_s=0.01)
    tf.set_transform("base_link", "wrist", 10 * S, (0, 0, 0), (0, 0, 0, 1))
    tf.set_transform("base_link", "wrist", 11 * S, (0, 0, 0), (0, 0, 0, 1))
    assert np.allclose(tf.lookup("base_link", "wrist", 11 * S + S // 200), np.eye(4))  # within tolerance
    with pytest.raises(ExtrapolationError, match="not yet"):
        tf.lookup("base_link", "wrist", 12 * S)
    with pytest.raises(ExtrapolationError, match="older"):
        tf.lookup("base_link", "wrist", 9 * S)


def test_old_samples_leave_the_cache():
    tf = TransformBuffer(cache_time_s=1.0)
    for i in range(30):
        tf.set_transform("base_link", "wrist", i * S // 10, (i, 0, 0), (0, 0, 0, 1))
    with pytest.raises(ExtrapolationError):
        tf.lookup("base_link", "wrist", S)  # 1.9 s before the newest


def test_malformed_transforms_are_rejected():
    tf = TransformBuffer()
    with pytest.raises(ValueError, match="unit quaternion"):
        tf.set_transform("a", "b", 0, (0, 0, 0), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="not finite"):
        tf.set_transform("a", "b", 0, (np.nan, 0, 0), (0, 0, 0, 1))
    with pytest.raises(ValueError, match="two different"):
        tf.set_transform("a", "a", 0, (0, 0, 0), (0, 0, 0, 1))
    assert tf.known_frames() == []


def test_wait_lookup_returns_when_the_data_arrives_and_gives_up_after_the_timeout():
    tf = TransformBuffer()
    tf.set_transform("base_link", "wrist", 1 * S, (0, 0, 0), (0, 0, 0, 1))

    def later() -> None:
        time.sleep(0.1)
        tf.set_transform("base_link", "wrist", 3 * S, (2.0, 0, 0), (0, 0, 0, 1))

    threading.Thread(target=later).start()
    assert np.allclose(tf.wait_lookup("base_link", "wrist", 2 * S, timeout_s=5.0)[:3, 3], [1.0, 0, 0])
    start = time.monotonic()
    with pytest.raises(ExtrapolationError):
        tf.wait_lookup("base_link", "wrist", 9 * S, timeout_s=0.2)
    assert time.monotonic() - start >= 0.2
