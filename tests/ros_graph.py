"""Helpers for tests that run a real rclpy graph: a client node that plays camera and user."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import rclpy
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros.ros.msg_conversion import time_msg
from vlm_ros.ros.spin import BackgroundSpin
from vlm_ros_interfaces.action import ExecuteInstruction
from vlm_ros_interfaces.msg import ActionPlan
from vlm_ros_interfaces.srv import GroundInstruction

WIDTH, HEIGHT = 64, 48
FX = FY = 60.0


def camera_info(width: int = WIDTH, height: int = HEIGHT, stamp_ns: int = 0) -> CameraInfo:
    msg = CameraInfo(width=width, height=height)
    msg.header.stamp = time_msg(stamp_ns)
    msg.header.frame_id = "camera_color_optical_frame"
    msg.k = [FX, 0.0, width / 2, 0.0, FY, height / 2, 0.0, 0.0, 1.0]
    msg.p = [FX, 0.0, width / 2, 0.0, 0.0, FY, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
    msg.d = [0.0] * 5
    msg.distortion_model = "plumb_bob"
    return msg


def stamped(msg: Any, stamp_ns: int, frame_id: str = "camera_color_optical_frame") -> Any:
    msg.header.stamp = time_msg(stamp_ns)
    msg.header.frame_id = frame_id
    return msg


class CameraAndUser(Node):
    """Publishes camera topics, calls `ground`, sends `execute` goals, records plans."""

    def __init__(self, namespace: str = ""):
        super().__init__("test_camera_and_user", namespace=namespace)
        self.image_pub = self.create_publisher(Image, "image", qos_profile_sensor_data)
        self.depth_pub = self.create_publisher(Image, "depth", qos_profile_sensor_data)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
        self.instruction_pub = self.create_publisher(String, "instruction", 10)
        self.plans: list[ActionPlan] = []
        self.create_subscription(ActionPlan, "plan", self.plans.append, 10)
        self.ground_client = self.create_client(GroundInstruction, "ground")
        self.execute_client = ActionClient(self, ExecuteInstruction, "execute")
        self._spin = BackgroundSpin(self, threads=2)

    def now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def publish_frame(self, rgb: np.ndarray | None = None, depth: np.ndarray | None = None,
                      info: CameraInfo | None = None, stamp_ns: int | None = None, image: Image | None = None,
                      depth_msg: Image | None = None, repeat: int = 3) -> None:
        """Publish a frame a few times (sensor-data QoS is best effort) and give it time to arrive."""
        stamp = self.now_ns() if stamp_ns is None else stamp_ns
        if image is None and rgb is not None:
            image = numpy_to_image(rgb, "rgb8")
        if depth_msg is None and depth is not None:
            depth_msg = numpy_to_image(depth.astype(np.float32), "32FC1")
        for _ in range(repeat):
            if image is not None:
                self.image_pub.publish(stamped(image, stamp))
            if depth_msg is not None:
                self.depth_pub.publish(stamped(depth_msg, stamp))
            if info is not None:
                self.info_pub.publish(stamped(info, stamp))
            time.sleep(0.05)
        time.sleep(0.2)

    def ground(self, instruction: str, timeout: float = 30.0, not_before_ns: int = 0) -> ActionPlan:
        assert self.ground_client.wait_for_service(timeout_sec=timeout), "ground service never appeared"
        request = GroundInstruction.Request(instruction=instruction, not_before=time_msg(not_before_ns))
        future = self.ground_client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done():
            assert time.monotonic() < deadline, "ground service did not answer"
            time.sleep(0.01)
        return future.result().plan

    def execute(self, instruction: str, dry_run: bool = False, timeout: float = 120.0):
        """Send an execute goal; returns (result, feedback list)."""
        assert self.execute_client.wait_for_server(timeout_sec=30.0), "execute action never appeared"
        feedback: list = []
        goal = ExecuteInstruction.Goal(instruction=instruction, dry_run=dry_run)
        future = self.execute_client.send_goal_async(goal, feedback_callback=lambda f: feedback.append(f.feedback))
        deadline = time.monotonic() + timeout
        while not future.done():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        result_future = future.result().get_result_async()
        while not result_future.done():
            assert time.monotonic() < deadline, "execute did not finish"
            time.sleep(0.02)
        return result_future.result().result, feedback

    def close(self) -> None:
        self._spin.stop()
        self.destroy_node()


def spin_in_background(node: Node, threads: int = 4) -> BackgroundSpin:
    return BackgroundSpin(node, threads=threads)


def ensure_rclpy() -> None:
    if not rclpy.ok():
        rclpy.init()


# What every in-process node test wants unless it says otherwise: no executor to forward to, a short frame wait.
NODE_TEST_DEFAULTS = {"execute_plan_action": "", "frame_wait_s": 3.0}
# A workspace and reach that accept any target: for tests of geometry, not of the validator.
ANYWHERE = {"workspace_min": [-2.0, -2.0, -2.0], "workspace_max": [2.0, 2.0, 2.0], "min_reach": 0.0, "max_reach": 5.0}


@contextlib.contextmanager
def grounding_graph(namespace: str, **overrides: Any) -> Iterator[tuple[Any, CameraAndUser]]:
    """(grounding node, camera/user node) in `namespace`, the node spun on its own threads; torn down after."""
    from rclpy.parameter import Parameter

    from vlm_ros.ros.grounding_node import GroundingNode

    values = {**NODE_TEST_DEFAULTS, **overrides}
    node = GroundingNode(namespace=namespace, parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
    spin = BackgroundSpin(node, threads=4)
    client = CameraAndUser(namespace)
    try:
        yield node, client
    finally:
        client.close()
        spin.stop()
        node.destroy_node()
