"""ROS messages ⇄ the plain-Python types of vlm_ros.core. No rclpy, only message types."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import (
    PLAN_STATUS_CODES,
    PRIMITIVE_CODES,
    CameraIntrinsics,
    Plan,
    Primitive,
    PrimitiveType,
    RGBDFrame,
)
from vlm_ros.geometry.distortion import checked_distortion
from vlm_ros.geometry.transforms import pose_to_matrix
from vlm_ros.grounding.input_checks import check_nanosec
from vlm_ros.ros.frame_cache import RawFrame, stamp_ns
from vlm_ros.ros.image_conversion import compressed_to_rgb8, to_depth_m, to_rgb8
from vlm_ros_interfaces.msg import ActionPlan, ActionPrimitive, StageLatency

NAN = float("nan")


def time_msg(ns: int) -> Time:
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def time_ns(msg: Time) -> int:
    return int(msg.sec) * 1_000_000_000 + int(msg.nanosec)


def request_time_ns(msg: Time, field: str) -> int:
    """A Time from a request (not_before); InputError when nanosec ≥ 1e9 rather than a silently shifted time."""
    return check_nanosec(int(msg.sec), int(msg.nanosec), field)


def intrinsics_from_camera_info(msg: Any, assume_rectified: bool = False) -> CameraIntrinsics:
    """K and D of a CameraInfo; an unknown distortion model is an InputError unless assume_rectified."""
    k = list(msg.k)
    if len(k) != 9 or k[0] <= 0 or k[4] <= 0 or not all(math.isfinite(v) for v in k):
        raise InputError("camera_info has no valid intrinsic matrix K (fx and fy must be positive).")
    model, d = checked_distortion(str(msg.distortion_model), list(msg.d), assume_rectified)
    return CameraIntrinsics(fx=k[0], fy=k[4], cx=k[2], cy=k[5], width=int(msg.width), height=int(msg.height),
                            distortion_model=model, d=d)


def frame_from_raw(raw: RawFrame, assume_rectified: bool = False) -> RGBDFrame:
    """Convert the cached messages; any malformed part raises InputError naming it."""
    is_compressed = hasattr(raw.image, "format") and not hasattr(raw.image, "encoding")
    rgb = compressed_to_rgb8(raw.image) if is_compressed else to_rgb8(raw.image)
    depth = to_depth_m(raw.depth) if raw.depth is not None else None
    intrinsics = (intrinsics_from_camera_info(raw.camera_info, assume_rectified)
                  if raw.camera_info is not None else None)
    if intrinsics is not None and (intrinsics.width, intrinsics.height) != (rgb.shape[1], rgb.shape[0]):
        raise InputError(
            f"camera_info is for {intrinsics.width}x{intrinsics.height} images but the colour image is "
            f"{rgb.shape[1]}x{rgb.shape[0]}."
        )
    if raw.depth is not None:
        stamp_ns(raw.depth)  # an overflowing depth stamp is as wrong as an image one
    return RGBDFrame(rgb=rgb, depth=depth, intrinsics=intrinsics, stamp_ns=stamp_ns(raw.image),
                     frame_id=raw.image.header.frame_id)


def transform_msg_to_matrix(msg: Any) -> np.ndarray:
    """geometry_msgs/TransformStamped (camera optical → base) → 4x4.

    ValueError names the transform and why (NaN/inf translation; NaN, zero or non-unit
    quaternion), so the node can keep its last good pose and say what it ignored.
    """
    t, q = msg.transform.translation, msg.transform.rotation
    try:
        return pose_to_matrix([t.x, t.y, t.z, q.x, q.y, q.z, q.w])
    except ValueError as error:
        raise ValueError(f"transform {msg.header.frame_id!r} → {msg.child_frame_id!r}: {error}") from None


def primitive_to_msg(step: Primitive) -> ActionPrimitive:
    msg = ActionPrimitive()
    msg.type = PRIMITIVE_CODES[step.type]
    msg.type_name = step.type.value
    msg.target_label = step.target_label
    msg.has_pose = step.position is not None
    if step.position is not None:
        msg.pose = Pose()
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in step.position)
        msg.pose.orientation.w = 1.0
    if step.direction is not None:
        msg.direction.x, msg.direction.y, msg.direction.z = (float(v) for v in step.direction)
    msg.distance = float(step.distance)
    msg.pixel = [float(v) for v in step.pixel] if step.pixel is not None else [NAN, NAN]
    msg.box = [float(v) for v in step.box] if step.box is not None else [NAN] * 4
    msg.confidence = float(step.confidence)
    return msg


def primitive_from_msg(msg: ActionPrimitive) -> Primitive:
    step = Primitive(type=list(PrimitiveType)[msg.type], target_label=msg.target_label,
                     confidence=float(msg.confidence), distance=float(msg.distance))
    if msg.has_pose:
        p = msg.pose.position
        step.position = np.array([p.x, p.y, p.z])
    direction = np.array([msg.direction.x, msg.direction.y, msg.direction.z])
    if np.any(direction):
        step.direction = direction
    if all(math.isfinite(v) for v in msg.pixel):
        step.pixel = (float(msg.pixel[0]), float(msg.pixel[1]))
    if all(math.isfinite(v) for v in msg.box):
        step.box = tuple(float(v) for v in msg.box)  # type: ignore[assignment]
    return step


def plan_to_msg(plan: Plan) -> ActionPlan:
    msg = ActionPlan()
    msg.header.stamp = time_msg(plan.stamp_ns)
    msg.header.frame_id = plan.frame_id
    msg.instruction = plan.instruction
    msg.steps = [primitive_to_msg(s) for s in plan.steps]
    msg.status = PLAN_STATUS_CODES[plan.status]
    msg.message = plan.message
    msg.model_id = plan.model_id
    msg.raw_output = plan.raw_output
    msg.latency = [StageLatency(stage=k, ms=float(v)) for k, v in plan.latency_ms.items()]
    return msg


def plan_from_msg(msg: ActionPlan) -> Plan:
    status = {code: status for status, code in PLAN_STATUS_CODES.items()}[msg.status]
    return Plan(
        instruction=msg.instruction, status=status, message=msg.message,
        steps=[primitive_from_msg(s) for s in msg.steps], model_id=msg.model_id, raw_output=msg.raw_output,
        latency_ms={lat.stage: float(lat.ms) for lat in msg.latency},
        stamp_ns=time_ns(msg.header.stamp), frame_id=msg.header.frame_id,
    )
