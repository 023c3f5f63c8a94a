"""The node's camera→base transform: /tf and /tf_static, the camera_pose topic, the parameter.

Wiring only: messages go into a transform buffer (tf2_ros where a full ROS install provides it,
else vlm_ros.geometry.tf_buffer, fed from tf2_msgs/TFMessage) and into a CameraPoseResolver,
which decides per frame which source applies and checks its frame ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from geometry_msgs.msg import TransformStamped
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from vlm_ros.core.types import RGBDFrame
from vlm_ros.geometry.camera_pose_source import CameraPose, CameraPoseResolver, ResolvedPose
from vlm_ros.geometry.tf_buffer import TransformBuffer, TransformLookupError
from vlm_ros.ros.msg_conversion import transform_msg_to_matrix

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
# What tf2_ros's TransformListener uses, so any tf publisher is matched.
TF_QOS = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
TF_STATIC_QOS = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)
IDENTITY = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def _stamp_ns(msg: Any) -> int:
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


def _unguarded(_what: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


class WheelTfListener:
    """/tf and /tf_static into a TransformBuffer (tf2_msgs built into the venv by tools/setup_env.sh).

    Like tf2_ros's TransformListener(spin_thread=True), it listens on a node and thread of its own:
    on the grounding node's multi-threaded executor, which serves dozens of entities, a 100 Hz /tf
    fell behind its 100-sample history and lost runs of 20-880 ms of samples, and a wrist camera's
    pose was then interpolated across the hole.
    """

    def __init__(self, node: Any, buffer: TransformBuffer,
                 wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]] = _unguarded):
        from rclpy.node import Node
        from tf2_msgs.msg import TFMessage

        from vlm_ros.ros.spin import BackgroundSpin

        self.buffer, self._log = buffer, node.get_logger()
        self._listener = Node(f"{node.get_name()}_tf_listener", namespace=node.get_namespace(),
                              context=node.context, start_parameter_services=False)
        self._listener.create_subscription(TFMessage, "/tf", wrap("/tf", lambda m: self._add(m, False)), TF_QOS)
        self._listener.create_subscription(TFMessage, "/tf_static", wrap("/tf_static", lambda m: self._add(m, True)),
                                           TF_STATIC_QOS)
        self._spin = BackgroundSpin(self._listener, threads=1)

    def close(self) -> None:
        self._spin.stop()
        self._listener.destroy_node()

    def _add(self, msg: Any, static: bool) -> None:
        for t in msg.transforms:
            r, q = t.transform.translation, t.transform.rotation
            try:
                self.buffer.set_transform(t.header.frame_id, t.child_frame_id, _stamp_ns(t), (r.x, r.y, r.z),
                                          (q.x, q.y, q.z, q.w), static=static)
            except ValueError as error:  # one bad transform must not drop the others
                self._log.warning(f"ignoring a {'/tf_static' if static else '/tf'} transform: {error}",
                                  throttle_duration_sec=5.0)


class Tf2RosLookup:
    """tf2_ros's Buffer behind the resolver's interface, on a full ROS 2 install."""

    def __init__(self, node: Any):
        import tf2_ros

        self._tf2 = tf2_ros
        self.buffer = tf2_ros.Buffer()
        self.listener = tf2_ros.TransformListener(self.buffer, node, spin_thread=False)

    def known_frames(self) -> list[str]:
        import yaml

        tree = yaml.safe_load(self.buffer.all_frames_as_yaml()) or {}
        return sorted(set(tree) | {v.get("parent", "") for v in tree.values() if isinstance(v, dict)} - {""})

    def has_frame(self, frame: str) -> bool:
        return frame in self.known_frames()

    def wait_lookup(self, target: str, source: str, stamp_ns: int, timeout_s: float) -> np.ndarray:
        from rclpy.duration import Duration
        from rclpy.time import Time

        try:
            msg = self.buffer.lookup_transform(target, source, Time(nanoseconds=stamp_ns),
                                               timeout=Duration(nanoseconds=int(timeout_s * 1e9)))
        except self._tf2.TransformException as error:
            raise TransformLookupError(f"no transform {target} ← {source} ({error}); "
                                       f"known frames: {', '.join(self.known_frames()) or 'none'}") from error
        return transform_msg_to_matrix(msg)


class CameraGeometry:
    """Subscribes to the transform sources and answers 'camera→base for this frame'."""

    def __init__(self, node: Any, params: dict[str, Any], parameter_pose: np.ndarray, callback_group: Any = None,
                 wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]] = _unguarded):
        """parameter_pose: camera_to_base as a matrix, checked on configure (the fallback when tf and camera_pose
        have nothing). wrap(name, callback): e.g. the node's CallbackGuard.wrap, so no callback can kill the node."""
        self._node = node
        self._listener: WheelTfListener | None = None
        tf = None
        if params["use_tf"]:
            try:
                tf = Tf2RosLookup(node)
                kind = "tf2_ros"
            except ImportError:
                tf = TransformBuffer(cache_time_s=10.0)
                self._listener = WheelTfListener(node, tf, wrap)
                kind = "vlm_ros tf buffer (tf2_ros not installed)"
            node.get_logger().info(f"camera→base from /tf via {kind}, else camera_pose, else camera_to_base")
        self.resolver = CameraPoseResolver(
            params["base_frame"], parameter_pose, tf, params["tf_timeout_s"],
            parameter_is_default=[float(v) for v in params["camera_to_base"]] == IDENTITY)
        node.create_subscription(TransformStamped, "camera_pose", wrap("camera_pose", self._on_camera_pose), LATCHED,
                                 callback_group=callback_group)

    def close(self) -> None:
        """Stop the tf listener's node and thread (the node's own subscriptions go with its entity scope)."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _on_camera_pose(self, msg: TransformStamped) -> None:
        try:
            matrix = transform_msg_to_matrix(msg)
        except ValueError as error:  # a bad pose never replaces a good one
            self._node.get_logger().warning(f"ignoring camera_pose: {error}")
            return
        self.resolver.camera_pose = CameraPose(matrix, msg.header.frame_id, msg.child_frame_id)

    def resolve(self, frame: RGBDFrame) -> ResolvedPose:
        """Raises InputError (an ERROR plan) naming missing frames or mismatched frame ids."""
        return self.resolver.resolve(frame.frame_id, frame.stamp_ns)
