"""A robot's frame tree for the tf tests, as numbers and as a publisher process.

Static: base_link → mast → fixed_camera_link → fixed_camera_optical_frame (a camera on a post), and
base_link → pan_base. Moving at 100 Hz on /tf: pan_base → wrist_link (a joint turning ±0.25 rad and
sliding ±3 cm, period 3 s), then static wrist_link → wrist_camera_link → wrist_camera_optical_frame.
The test computes the expected transforms from `chain_at` (vlm_ros.geometry.transforms), the node
from /tf and /tf_static: two independent paths to the same answer.

    python -m tests.tf_chain    # publishes until killed
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from vlm_ros.geometry.transforms import pose_to_matrix

S2 = math.sqrt(0.5)
OPTICAL = (-0.5, 0.5, -0.5, 0.5)  # camera_link (x forward) → optical (z forward)
LOOK_DOWN = (0.0, S2, 0.0, S2)  # +90° about y: the link's x axis points down
STATIC = [  # parent, child, translation, rotation (x, y, z, w)
    ("base_link", "mast", (0.9, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)),  # facing back at the robot
    ("mast", "fixed_camera_link", (0.3, 0.0, 0.7), (0.0, 0.3826834, 0.0, 0.9238795)),  # 45° down
    ("fixed_camera_link", "fixed_camera_optical_frame", (0.0, 0.015, 0.0), OPTICAL),
    ("base_link", "pan_base", (0.5, 0.0, 0.6), (0.0, 0.0, 0.0, 1.0)),
    ("wrist_link", "wrist_camera_link", (0.0, 0.0, 0.0), LOOK_DOWN),
    ("wrist_camera_link", "wrist_camera_optical_frame", (0.0, 0.0, 0.0), OPTICAL),
]
PERIOD_S = 3.0


def wrist_at(stamp_ns: int) -> tuple[tuple[float, float, float], tuple[float, float, float, float]]:
    """pan_base → wrist_link at a time: translation and rotation (x, y, z, w)."""
    phase = 2 * math.pi * (stamp_ns / 1e9 % PERIOD_S) / PERIOD_S
    angle = 0.25 * math.sin(phase)
    return (0.03 * math.sin(phase), 0.0, 0.0), (0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2))


def chain_at(child: str, stamp_ns: int) -> np.ndarray:
    """4x4 base_link ← child, composed edge by edge."""
    edges = {c: (p, t, q) for p, c, t, q in STATIC}
    edges["wrist_link"] = ("pan_base", *wrist_at(stamp_ns))
    matrix = np.eye(4)
    frame = child
    while frame != "base_link":
        parent, t, q = edges[frame]
        matrix = pose_to_matrix([*t, *q]) @ matrix
        frame = parent
    return matrix


def main() -> None:
    import rclpy
    from geometry_msgs.msg import TransformStamped
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from tf2_msgs.msg import TFMessage

    from vlm_ros.ros.msg_conversion import time_msg

    def stamped(parent, child, t, q, stamp_ns) -> TransformStamped:
        msg = TransformStamped()
        msg.header.stamp, msg.header.frame_id, msg.child_frame_id = time_msg(stamp_ns), parent, child
        tr, r = msg.transform.translation, msg.transform.rotation
        tr.x, tr.y, tr.z = t
        r.x, r.y, r.z, r.w = q
        return msg

    rclpy.init()
    node = rclpy.create_node("tf_chain_publisher")
    static_pub = node.create_publisher(TFMessage, "/tf_static", QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    tf_pub = node.create_publisher(TFMessage, "/tf", QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    now = node.get_clock().now().nanoseconds
    static_pub.publish(TFMessage(transforms=[stamped(p, c, t, q, now) for p, c, t, q in STATIC]))

    def tick() -> None:
        stamp = node.get_clock().now().nanoseconds
        tf_pub.publish(TFMessage(transforms=[stamped("pan_base", "wrist_link", *wrist_at(stamp), stamp)]))

    node.create_timer(0.01, tick)
    with contextlib.suppress(KeyboardInterrupt, Exception):  # SIGTERM from the test ends the process either way
        rclpy.spin(node)


if __name__ == "__main__":
    main()
