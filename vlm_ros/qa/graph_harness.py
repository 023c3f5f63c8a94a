"""A grounding_node in a process of its own, and a client node that plays camera, user and executor.

The node runs as a subprocess so that a death is what an integrator would see (the process
exits) and the harness can count it and start a new one. The client publishes the camera
topics, camera_pose and the oracle's program (the oracle backend returns whatever program it
was last sent, so each case chooses the "model output"), calls `ground`, sends `execute` goals,
and hosts a real `execute_plan` action server whose behaviour each case picks.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from geometry_msgs.msg import TransformStamped
from rclpy.action import ActionClient, ActionServer, CancelResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from std_srvs.srv import Trigger

from vlm_ros.geometry.transforms import matrix_to_pose
from vlm_ros.qa.model_outputs import downward_camera
from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros.ros.msg_conversion import time_msg
from vlm_ros.ros.spin import BackgroundSpin
from vlm_ros_interfaces.action import ExecuteInstruction, ExecutePlan
from vlm_ros_interfaces.msg import ActionPlan
from vlm_ros_interfaces.srv import GroundInstruction

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
WIDTH, HEIGHT, FOCAL = 64, 48, 60.0
OPTICAL = "camera_color_optical_frame"
GOOD_PROGRAM = "pick(red block) @ (32, 24) ; place(left side) @ (10, 10)"
GOOD_PICK = (0.5, 0.0, 0.0)  # where GOOD_PROGRAM's pick lands with the downward camera and 0.8 m depth [m]
NODE_PARAMETERS = {  # the node under test: oracle backend, short waits so failing cases fail fast
    "backend": "oracle", "frame_wait_s": 3.0, "execute_timeout_s": 2.0, "max_frame_age_s": 2.0,
    "publish_debug_image": True,
}


def good_rgb() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 120, np.uint8)


def good_depth(value: float = 0.8) -> np.ndarray:
    return np.full((HEIGHT, WIDTH), value, np.float32)


def good_info(width: int = WIDTH, height: int = HEIGHT) -> CameraInfo:
    msg = CameraInfo(width=width, height=height, distortion_model="plumb_bob", d=[0.0] * 5)
    msg.k = [FOCAL, 0.0, width / 2, 0.0, FOCAL, height / 2, 0.0, 0.0, 1.0]
    msg.p = [FOCAL, 0.0, width / 2, 0.0, 0.0, FOCAL, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def good_pose(matrix: np.ndarray | None = None) -> TransformStamped:
    x, y, z, qx, qy, qz, qw = matrix_to_pose(downward_camera() if matrix is None else matrix)
    msg = TransformStamped()
    msg.header.frame_id, msg.child_frame_id = "base_link", OPTICAL
    t, r = msg.transform.translation, msg.transform.rotation
    t.x, t.y, t.z, r.x, r.y, r.z, r.w = x, y, z, qx, qy, qz, qw
    return msg


def _ros_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ",".join(repr(float(v)) for v in value) + "]"
    return str(value)


class NodeProcess:
    """`python -m vlm_ros.ros.grounding_node --ros-args ...` in its own namespace."""

    def __init__(self, namespace: str, parameters: dict[str, Any], log_path: str | None = None):
        self.namespace, self.parameters, self.log_path = namespace, parameters, log_path
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        args = [sys.executable, "-m", "vlm_ros.ros.grounding_node", "--ros-args", "-r", f"__ns:={self.namespace}",
                "--log-level", "error"]
        for name, value in self.parameters.items():
            args += ["-p", f"{name}:={_ros_value(value)}"]
        log = open(self.log_path, "a") if self.log_path else subprocess.DEVNULL  # noqa: SIM115 (held by the child)
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class QaClient(Node):
    """Camera, user and executor around the node under test."""

    def __init__(self, namespace: str):
        super().__init__("qa_client", namespace=namespace)
        group = ReentrantCallbackGroup()
        self.image_pub = self.create_publisher(Image, "image", qos_profile_sensor_data)
        self.depth_pub = self.create_publisher(Image, "depth", qos_profile_sensor_data)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
        self.pose_pub = self.create_publisher(TransformStamped, "camera_pose", LATCHED)
        self.program_pub = self.create_publisher(String, "oracle/program", LATCHED)
        self.instruction_pub = self.create_publisher(String, "instruction", 1000)
        self.plans: list[ActionPlan] = []
        self.create_subscription(ActionPlan, "plan", self.plans.append, 100, callback_group=group)
        self.ground_client = self.create_client(GroundInstruction, "ground", callback_group=group)
        self.execute_client = ActionClient(self, ExecuteInstruction, "execute", callback_group=group)
        self.stop_client = self.create_client(Trigger, "stop", callback_group=group)
        self.executor_cancelled_at: float | None = None  # monotonic time the executor saw its goal cancelled
        self.executor_mode = "succeed"  # succeed | fail | hang
        self.executor_goals = 0
        self._executor_server: ActionServer | None = None
        self._group = group
        self._spin = BackgroundSpin(self, threads=4)

    # --- camera and scene ----------------------------------------------------------------------------
    def now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def publish_frame(self, image: Image | None, depth: Image | None, info: CameraInfo | None,
                      stamp: Any = None, depth_stamp: Any = None, repeat: int = 2) -> int:
        """Publish one frame (any part may be hostile or missing); returns the stamp used, in ns.

        `stamp`/`depth_stamp` (builtin_interfaces/Time) override the fresh stamp, for stamp cases.
        """
        now = self.now_ns()
        stamp = time_msg(now) if stamp is None else stamp
        for _ in range(repeat):
            for pub, msg, when in ((self.image_pub, image, stamp), (self.depth_pub, depth, depth_stamp or stamp),
                                   (self.info_pub, info, stamp)):
                if msg is None:
                    continue
                msg.header.stamp = when
                msg.header.frame_id = msg.header.frame_id or OPTICAL
                pub.publish(msg)
            time.sleep(0.03)
        time.sleep(0.1)
        return now

    def publish_good_frame(self) -> int:
        return self.publish_frame(numpy_to_image(good_rgb(), "rgb8"), numpy_to_image(good_depth(), "32FC1"),
                                  good_info())

    @contextlib.contextmanager
    def streaming(self, period_s: float = 0.1) -> Iterator[None]:
        """Good frames every `period_s` meanwhile, as a camera streams: queued requests then meet fresh frames."""
        stop = threading.Event()

        def stream() -> None:
            while not stop.is_set():
                self.publish_frame(numpy_to_image(good_rgb(), "rgb8"), numpy_to_image(good_depth(), "32FC1"),
                                   good_info(), repeat=1)
                stop.wait(period_s)
        thread = threading.Thread(target=stream, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def set_program(self, program: str) -> None:
        self.program_pub.publish(String(data=program))

    def set_pose(self, msg: TransformStamped) -> None:
        self.pose_pub.publish(msg)

    # --- user ----------------------------------------------------------------------------------------
    def wait_for_node(self, timeout: float) -> bool:
        return self.ground_client.wait_for_service(timeout_sec=timeout)

    def ground(self, instruction: str, timeout: float, not_before: Any = None) -> ActionPlan | None:
        """The plan, or None when no answer came within `timeout` (an unanswered request)."""
        request = GroundInstruction.Request(instruction=instruction)
        if not_before is not None:
            request.not_before = not_before
        future = self.ground_client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline:
                self.ground_client.remove_pending_request(future)
                return None
            time.sleep(0.005)
        return future.result().plan

    def ground_many(self, instruction: str, count: int, timeout: float) -> list[ActionPlan | None]:
        """`count` requests in flight at once (a client whose response queue is that deep: rclpy's default
        keeps 10, which would lose answers on our side); None where no answer came within `timeout`."""
        client = self.create_client(GroundInstruction, "ground", qos_profile=QoSProfile(depth=count),
                                    callback_group=self._group)
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                return [None] * count
            futures = [client.call_async(GroundInstruction.Request(instruction=instruction)) for _ in range(count)]
            deadline = time.monotonic() + timeout
            while not all(f.done() for f in futures) and time.monotonic() < deadline:
                time.sleep(0.005)
            return [f.result().plan if f.done() else None for f in futures]
        finally:
            self.destroy_client(client)

    def execute(self, instruction: str, timeout: float, dry_run: bool = False):
        """(result, accepted) of an execute goal, or (None, accepted) when it never finished."""
        if not self.execute_client.wait_for_server(timeout_sec=min(timeout, 5.0)):
            return None, False
        future = self.execute_client.send_goal_async(ExecuteInstruction.Goal(instruction=instruction, dry_run=dry_run))
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline:
                return None, False
            time.sleep(0.005)
        handle = future.result()
        if not handle.accepted:
            return None, False
        result = handle.get_result_async()
        while not result.done():
            if time.monotonic() > deadline:
                return None, True
            time.sleep(0.005)
        return result.result().result, True

    def execute_then_stop(self, instruction: str, timeout: float, via: str) -> tuple[Any, int, float | None]:
        """Start an execute goal, wait until the executor has it, then cancel it (`via` "cancel") or call
        `stop` ("stop"). Returns (goal status or None, executor goals received, seconds from the
        request to the executor seeing its goal cancelled, or None if it never did)."""
        self.executor_cancelled_at = None
        if not self.execute_client.wait_for_server(timeout_sec=5.0):
            return None, 0, None
        before = self.executor_goals
        future = self.execute_client.send_goal_async(ExecuteInstruction.Goal(instruction=instruction))
        deadline = time.monotonic() + timeout
        while not future.done() or self.executor_goals == before:
            if time.monotonic() > deadline:
                return None, self.executor_goals - before, None
            time.sleep(0.005)
        handle = future.result()
        asked = time.monotonic()
        if via == "cancel":
            handle.cancel_goal_async()
        else:
            self.stop_client.call_async(Trigger.Request())
        result = handle.get_result_async()
        while not result.done():
            if time.monotonic() > deadline:
                return None, self.executor_goals - before, None
            time.sleep(0.005)
        lag = None if self.executor_cancelled_at is None else self.executor_cancelled_at - asked
        return result.result().status, self.executor_goals - before, lag

    # --- executor ------------------------------------------------------------------------------------
    def start_executor(self) -> None:
        if self._executor_server is None:
            self._executor_server = ActionServer(self, ExecutePlan, "execute_plan", self._execute_plan,
                                                 callback_group=self._group,
                                                 cancel_callback=lambda _goal: CancelResponse.ACCEPT)

    def _execute_plan(self, goal_handle) -> ExecutePlan.Result:
        self.executor_goals += 1
        result = ExecutePlan.Result()
        if self.executor_mode == "hang":  # stops answering; gives up after 10 s or on cancel
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and not goal_handle.is_cancel_requested:
                time.sleep(0.002)
            if goal_handle.is_cancel_requested:
                self.executor_cancelled_at = time.monotonic()
                goal_handle.canceled()
                result.message = "cancelled"
                return result
        if self.executor_mode == "succeed":
            result.success, result.message = True, "done"
            goal_handle.succeed()
        else:
            result.success, result.message = False, "the arm faulted"
            goal_handle.abort()
        return result

    def close(self) -> None:
        self._spin.stop()
        self.destroy_node()
