"""Replay a bag through GroundingPipeline offline and compare each plan with the recorded one.

No live graph: the bag is read in time order with rosbags, the camera state the node had at each
moment is rebuilt (latest image/depth/camera_info, camera_pose, /tf and /tf_static), and every
recorded plan's instruction is grounded again on the frame that plan was grounded on (its header
stamp is the image stamp), as fast as the model runs. A plan matches when status, step types and
labels agree and every target lies within `tolerance_m` of the recorded one.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import Plan, PlanStatus
from vlm_ros.geometry.camera_pose_source import CameraPose, CameraPoseResolver
from vlm_ros.geometry.tf_buffer import TransformBuffer
from vlm_ros.geometry.transforms import pose_to_matrix
from vlm_ros.grounding.pipeline import GroundingPipeline

HISTORY = 64  # images/depths kept while reading: a plan refers to a frame of the last few seconds


@dataclass
class ReplayCase:
    instruction: str
    bag_time_s: float
    recorded: str  # Plan.describe() one-liners, for people
    replayed: str
    matches: bool
    differences: list[str] = field(default_factory=list)
    max_target_diff_m: float = 0.0


def _summary(plan: Plan) -> str:
    steps = " ; ".join(s.describe() for s in plan.steps)
    return f"{plan.status.value}: {steps or plan.message}"


def compare_plans(recorded: Plan, replayed: Plan, tolerance_m: float) -> tuple[list[str], float]:
    """Differences in words (empty: the plans match) and the largest target distance [m]."""
    diffs: list[str] = []
    if recorded.status != replayed.status:
        diffs.append(f"status {recorded.status.value} → {replayed.status.value}")
    if len(recorded.steps) != len(replayed.steps):
        diffs.append(f"{len(recorded.steps)} steps → {len(replayed.steps)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(recorded.steps, replayed.steps), start=1):
        if (a.type, a.target_label) != (b.type, b.target_label):
            diffs.append(f"step {i}: {a.type.value}({a.target_label}) → {b.type.value}({b.target_label})")
        if (a.position is None) != (b.position is None):
            diffs.append(f"step {i}: target {'lost' if b.position is None else 'added'}")
        elif a.position is not None and b.position is not None:
            distance = float(np.linalg.norm(np.asarray(a.position) - np.asarray(b.position)))
            worst = max(worst, distance)
            if distance > tolerance_m:
                diffs.append(f"step {i}: target moved {distance * 100:.1f} cm (tolerance {tolerance_m * 100:.1f} cm)")
    return diffs, worst


class CameraState:
    """What grounding_node knew about the camera at one moment of the bag."""

    def __init__(self, params: dict[str, Any]):
        self.images: deque[Any] = deque(maxlen=HISTORY)
        self.depths: deque[Any] = deque(maxlen=HISTORY)
        self.camera_info: Any = None
        self.slop_ns = int(params["sync_slop_s"] * 1e9)
        self.tf = TransformBuffer(cache_time_s=30.0)
        self.resolver = CameraPoseResolver(
            params["base_frame"], pose_to_matrix(params["camera_to_base"]), self.tf if params["use_tf"] else None,
            tf_timeout_s=0.0, parameter_is_default=[float(v) for v in params["camera_to_base"]] == [0.0] * 6 + [1.0])

    def add(self, kind: str, msg: Any) -> None:
        from vlm_ros.ros.msg_conversion import transform_msg_to_matrix

        if kind == "image":
            self.images.append(msg)
        elif kind == "depth":
            self.depths.append(msg)
        elif kind == "camera_info":
            self.camera_info = msg
        elif kind == "camera_pose":
            with contextlib.suppress(ValueError):  # the node ignores a malformed pose too
                self.resolver.camera_pose = CameraPose(transform_msg_to_matrix(msg), msg.header.frame_id,
                                                       msg.child_frame_id)
        elif kind in ("tf", "tf_static"):
            for t in msg.transforms:
                r, q = t.transform.translation, t.transform.rotation
                with contextlib.suppress(ValueError):
                    self.tf.set_transform(t.header.frame_id, t.child_frame_id, _ns(t.header.stamp),
                                          (r.x, r.y, r.z), (q.x, q.y, q.z, q.w), static=kind == "tf_static")

    def raw_frame(self, stamp_ns: int) -> Any:
        """The image stamped `stamp_ns` (else the newest) and its closest depth, paired like FrameCache."""
        from vlm_ros.ros.frame_cache import RawFrame

        if not self.images:
            return None
        image = next((m for m in reversed(self.images) if _ns(m.header.stamp) == stamp_ns), self.images[-1])
        target = _ns(image.header.stamp)
        depth = min(self.depths, key=lambda d: abs(_ns(d.header.stamp) - target), default=None)
        if depth is not None and abs(_ns(depth.header.stamp) - target) > self.slop_ns:
            depth = None
        return RawFrame(image, depth, self.camera_info)


def _ns(stamp: Any) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def _kind(topic: str, msgtype: str) -> str:
    last = topic.rstrip("/").rsplit("/", 1)[-1]
    if msgtype == "sensor_msgs/msg/CompressedImage":
        return "image"
    if msgtype == "sensor_msgs/msg/Image":
        return "depth" if "depth" in topic.rsplit("/", 2)[-2:][0] or last == "depth" else "image"
    return {"tf": "tf", "tf_static": "tf_static"}.get(last, last)


def regrounded(pipeline: GroundingPipeline, state: CameraState, recorded: Plan, params: dict[str, Any]) -> Plan:
    """The instruction of `recorded` grounded again on the frame it was grounded on."""
    from vlm_ros.ros.msg_conversion import frame_from_raw

    raw = state.raw_frame(recorded.stamp_ns)
    try:
        frame = frame_from_raw(raw, params["assume_rectified"]) if raw is not None else None
        pose = state.resolver.resolve(frame.frame_id, frame.stamp_ns) if frame is not None else None
    except InputError as error:
        return Plan(recorded.instruction, PlanStatus.ERROR, str(error), model_id=pipeline.model_id)
    return pipeline.run(frame, recorded.instruction, now_ns=0,
                        camera_to_base=pose.matrix if pose is not None else None)


def replay_bag(path: str | Path, pipeline: GroundingPipeline, params: dict[str, Any],
               tolerance_m: float = 0.01) -> list[ReplayCase]:
    """Every plan recorded in the bag, grounded again and compared.

    Recorded plans are decoded with the message definitions stored in the bag (rosbags' AnyReader),
    not with today's ActionPlan, so a bag recorded before an interface change still replays; camera
    and tf messages are standard types and go to rclpy's classes, which the node's own code reads.
    """
    from rclpy.serialization import deserialize_message
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    from vlm_ros.bags.types import message_class
    from vlm_ros.ros.msg_conversion import plan_from_msg

    state = CameraState(params)
    cases: list[ReplayCase] = []
    with AnyReader([Path(path)], default_typestore=get_typestore(Stores.ROS2_KILTED)) as reader:
        classes = {c.id: message_class(c.msgtype) for c in reader.connections}
        start = None
        for connection, timestamp, raw in reader.messages():
            start = timestamp if start is None else start
            kind = _kind(connection.topic, connection.msgtype)
            if kind not in ("image", "depth", "camera_info", "camera_pose", "tf", "tf_static", "plan"):
                continue
            if kind != "plan":
                state.add(kind, deserialize_message(bytes(raw), classes[connection.id]))
                continue
            recorded = plan_from_msg(reader.deserialize(raw, connection.msgtype))
            replayed = regrounded(pipeline, state, recorded, params)
            diffs, worst = compare_plans(recorded, replayed, tolerance_m)
            cases.append(ReplayCase(recorded.instruction, (timestamp - start) / 1e9, _summary(recorded),
                                    _summary(replayed), not diffs, diffs, worst))
    return cases


def report(cases: list[ReplayCase]) -> str:
    lines = []
    for i, case in enumerate(cases, start=1):
        mark = "match" if case.matches else "REGRESSION"
        lines.append(f"[{i}/{len(cases)}] {mark} at {case.bag_time_s:.2f} s: {case.instruction!r}")
        lines.append(f"    recorded: {case.recorded}")
        if not case.matches:
            lines.append(f"    replayed: {case.replayed}")
            lines += [f"    - {d}" for d in case.differences]
        elif case.max_target_diff_m:
            lines.append(f"    targets within {case.max_target_diff_m * 1000:.2f} mm")
    matched = sum(c.matches for c in cases)
    lines.append(f"{matched}/{len(cases)} plans match")
    return "\n".join(lines)


def as_json(cases: list[ReplayCase]) -> dict[str, Any]:
    return {"plans": len(cases), "matched": sum(c.matches for c in cases),
            "cases": [asdict(c) for c in cases]}
