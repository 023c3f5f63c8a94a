"""Where the camera→base transform of one frame comes from, and the frame-id checks on it.

Order: tf (the image's frame and the base frame are both in the frame tree) → the `camera_pose`
topic → the `camera_to_base` parameter. Whatever is used is checked against the base frame and the
image's frame_id, so a transform between two other frames is an ERROR naming the mismatch instead
of a target in the wrong place. When a frame tree is being published but lacks the camera and the
parameter was left at its (meaningless) identity default, the tf error is reported: that is the
"target frame does not exist" case integrators meet first, and it must say which frames exist.
No rclpy here: the node feeds messages in, tests feed numbers in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vlm_ros.core.errors import InputError


class TransformLookup(Protocol):
    """What the resolver needs of a tf buffer: our TransformBuffer, or tf2_ros behind an adapter."""

    def known_frames(self) -> list[str]: ...

    def has_frame(self, frame: str) -> bool: ...

    def wait_lookup(self, target: str, source: str, stamp_ns: int, timeout_s: float) -> np.ndarray: ...


@dataclass
class CameraPose:
    """A camera_pose message as numbers: `matrix` maps `child` (camera optical) points to `parent` (base)."""

    matrix: np.ndarray  # [4, 4]
    parent: str
    child: str


@dataclass
class ResolvedPose:
    matrix: np.ndarray  # [4, 4] camera optical frame → base frame
    source: str  # "tf", "camera_pose" or "camera_to_base parameter"


class CameraPoseResolver:
    """Picks the camera→base transform for a frame; raises InputError saying why none fits."""

    def __init__(self, base_frame: str, parameter: np.ndarray, tf: TransformLookup | None = None,
                 tf_timeout_s: float = 0.2, parameter_is_default: bool = False):
        self.base_frame = base_frame.lstrip("/")
        self.parameter = parameter
        self.tf = tf
        self.tf_timeout_s = tf_timeout_s
        self.parameter_is_default = parameter_is_default
        self.camera_pose: CameraPose | None = None

    def resolve(self, image_frame: str, stamp_ns: int) -> ResolvedPose:
        image_frame = image_frame.lstrip("/")
        tf = self.tf
        if tf is not None and image_frame and tf.has_frame(image_frame) and tf.has_frame(self.base_frame):
            return ResolvedPose(tf.wait_lookup(self.base_frame, image_frame, stamp_ns, self.tf_timeout_s), "tf")
        if self.camera_pose is not None:
            return ResolvedPose(self._checked_camera_pose(image_frame), "camera_pose")
        if tf is not None and tf.known_frames() and self.parameter_is_default:
            if not image_frame:
                raise InputError("The image has no frame_id, so its transform to "
                                 f"{self.base_frame} cannot be looked up in tf.")
            return ResolvedPose(tf.wait_lookup(self.base_frame, image_frame, stamp_ns, self.tf_timeout_s), "tf")
        return ResolvedPose(self.parameter, "camera_to_base parameter")

    def _checked_camera_pose(self, image_frame: str) -> np.ndarray:
        pose = self.camera_pose
        assert pose is not None
        parent, child = pose.parent.lstrip("/"), pose.child.lstrip("/")
        wrong = []
        if parent != self.base_frame:
            wrong.append(f"its frame_id is {parent!r}, not the base frame {self.base_frame!r}")
        if child != image_frame:
            wrong.append(f"its child_frame_id is {child!r}, not the image's frame_id {image_frame!r}")
        if wrong:
            raise InputError("The camera_pose transform does not fit this camera: " + " and ".join(wrong) + ".")
        return pose.matrix
