"""Which camera→base transform a frame gets (tf → camera_pose → parameter) and the frame-id checks."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.errors import InputError
from vlm_ros.geometry.camera_pose_source import CameraPose, CameraPoseResolver
from vlm_ros.geometry.tf_buffer import TransformBuffer
from vlm_ros.geometry.transforms import pose_to_matrix

CAM = "camera_color_optical_frame"
PARAM = pose_to_matrix([0.9, 0.0, 0.6, 0.0, 0.0, 0.0, 1.0])
TOPIC = pose_to_matrix([0.8, 0.1, 0.5, 0.0, 0.0, 0.0, 1.0])


def tf_with_camera() -> TransformBuffer:
    tf = TransformBuffer()
    tf.set_transform("base_link", "camera_link", 0, (0.7, 0.0, 0.4), (0.0, 0.0, 0.0, 1.0), static=True)
    tf.set_transform("camera_link", CAM, 0, (0.0, 0.0, 0.0), (-0.5, 0.5, -0.5, 0.5), static=True)
    return tf


def test_tf_comes_first_when_it_knows_both_frames():
    resolver = CameraPoseResolver("base_link", PARAM, tf_with_camera())
    resolver.camera_pose = CameraPose(TOPIC, "base_link", CAM)
    resolved = resolver.resolve(CAM, 0)
    assert resolved.source == "tf" and np.allclose(resolved.matrix[:3, 3], [0.7, 0.0, 0.4])


def test_camera_pose_then_parameter_when_tf_lacks_the_frames():
    resolver = CameraPoseResolver("base_link", PARAM, TransformBuffer())
    assert resolver.resolve(CAM, 0).source == "camera_to_base parameter"
    resolver.camera_pose = CameraPose(TOPIC, "base_link", CAM)
    resolved = resolver.resolve(CAM, 0)
    assert resolved.source == "camera_pose" and np.allclose(resolved.matrix, TOPIC)


@pytest.mark.parametrize("parent,child,words", [
    ("world", CAM, ["frame_id is 'world'", "base frame 'base_link'"]),
    ("base_link", "camera_depth_optical_frame", ["child_frame_id is 'camera_depth_optical_frame'",
                                                 f"image's frame_id '{CAM}'"]),
    ("odom", "wrist", ["'odom'", "'wrist'", " and "]),
])
def test_camera_pose_with_other_frames_is_an_error_saying_which(parent, child, words):
    resolver = CameraPoseResolver("base_link", PARAM)
    resolver.camera_pose = CameraPose(TOPIC, parent, child)
    with pytest.raises(InputError) as info:
        resolver.resolve(CAM, 0)
    for word in words:
        assert word in str(info.value)


def test_a_tf_tree_without_the_camera_is_an_error_when_no_other_source_was_given():
    tf = TransformBuffer()
    tf.set_transform("world", "base_link", 0, (0, 0, 0), (0, 0, 0, 1), static=True)
    tf.set_transform("base_link", "camera_link", 0, (0, 0, 0), (0, 0, 0, 1), static=True)
    resolver = CameraPoseResolver("base_link", np.eye(4), tf, tf_timeout_s=0.0, parameter_is_default=True)
    with pytest.raises(InputError, match=f"no transform base_link ← {CAM}.*known frames: base_link, "
                                         "camera_link, world"):
        resolver.resolve(CAM, 0)
    # a parameter the user did set is their answer for this camera
    assert CameraPoseResolver("base_link", PARAM, tf, 0.0).resolve(CAM, 0).source == "camera_to_base parameter"
