"""A recorder node: the camera, instruction, plan and tf topics into a rosbag2 bag (MCAP or sqlite3).

Subscriptions are raw (CDR bytes as the middleware delivers them), so what is written is exactly
what was on the wire; rosbags writes the container and each connection's type definition, so the
bag opens in `ros2 bag info/play` and Foxglove.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

from vlm_ros.bags.types import DEFAULT_TOPICS, message_class, typestore

SENSOR_TYPES = {"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/CameraInfo"}
LATCHED_NAMES = {"camera_pose", "/tf_static", "oracle/program"}
LATCHED = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def qos_for(name: str, type_name: str) -> QoSProfile:
    """Best effort for cameras (matches any publisher), transient local where publishers latch."""
    if type_name in SENSOR_TYPES:
        return qos_profile_sensor_data
    if name.rsplit("/", 1)[-1] in {n.rsplit("/", 1)[-1] for n in LATCHED_NAMES} and name != "/tf":
        return LATCHED
    return RELIABLE


def open_writer(out: str | Path, storage: str = "mcap") -> Any:
    from rosbags.rosbag2 import StoragePlugin, Writer

    plugin = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}[storage]
    writer = Writer(Path(out), version=Writer.VERSION_LATEST, storage_plugin=plugin)
    writer.open()
    return writer


class BagRecorder(Node):
    """Writes every message of `topics` ({name: type}) to a new bag at `out`."""

    def __init__(self, out: str | Path, topics: dict[str, str] | None = None, storage: str = "mcap",
                 **kwargs: Any):
        super().__init__("vlm_ros_recorder", **kwargs)
        self.writer = open_writer(out, storage)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._closed = False
        store = typestore()
        for name, type_name in (topics or DEFAULT_TOPICS).items():
            resolved = self.resolve_topic_name(name)
            connection = self.writer.add_connection(resolved, type_name, typestore=store)
            self.create_subscription(message_class(type_name), name,
                                     lambda raw, c=connection, n=resolved: self._write(c, n, raw),
                                     qos_for(name, type_name), raw=True)
        self.get_logger().info(f"recording {len(topics or DEFAULT_TOPICS)} topics to {out} ({storage})")

    def _write(self, connection: Any, name: str, raw: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            self.writer.write(connection, self.get_clock().now().nanoseconds, bytes(raw))
            self.counts[name] += 1

    def close(self) -> dict[str, int]:
        """Finish the bag (metadata.yaml); returns messages written per topic."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.writer.close()
        return dict(self.counts)
