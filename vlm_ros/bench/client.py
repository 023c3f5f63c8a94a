"""A ROS client that plays the user of a running vlm_ros graph: resets scenes, says instructions.

Used by `vlm-ros bench`, `vlm-ros demo` and `vlm-ros say`; it talks to the nodes only
through their topics, services and actions, exactly as an integrator's code would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from vlm_ros.core.errors import VlmRosError
from vlm_ros.core.types import Plan
from vlm_ros.ros.image_conversion import to_rgb8
from vlm_ros.ros.msg_conversion import plan_from_msg, time_ns
from vlm_ros.ros.spin import BackgroundSpin
from vlm_ros_interfaces.action import ExecuteInstruction
from vlm_ros_interfaces.srv import CheckTask, ResetScene


class GraphTimeout(VlmRosError):
    """A node of the graph did not answer in time."""


@dataclass
class Outcome:
    """What one instruction did: the plan, whether execution succeeded, and timings."""

    instruction: str
    plan: Plan
    success: bool
    message: str
    step_results: list[Any] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    round_trip_s: float = 0.0
    attempts: int = 0  # plans executed (closed loop: more than one when it re-planned)
    verified: bool | None = None  # the node's check after execution; None when it did not check


class GraphClient(Node):
    def __init__(self, namespace: str = "", watch_images: bool = False):
        super().__init__("vlm_ros_client", namespace=namespace)
        self.execute_client = ActionClient(self, ExecuteInstruction, "execute")
        self.reset_client = self.create_client(ResetScene, "reset_scene")
        self.check_client = self.create_client(CheckTask, "check_task")
        self.latest: dict[str, Image] = {}
        if watch_images:
            for topic in ("image", "debug_image"):
                self.create_subscription(Image, topic, lambda m, t=topic: self.latest.__setitem__(t, m),
                                         qos_profile_sensor_data if topic == "image" else 1)
        self._spin = BackgroundSpin(self, threads=2)

    # --- plumbing --------------------------------------------------------------------------------------
    @staticmethod
    def _wait(future, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline:
                raise GraphTimeout(f"{what} did not answer within {timeout:.0f} s")
            time.sleep(0.005)
        return future.result()

    def wait_for_graph(self, timeout: float = 120.0, sim: bool = True) -> None:
        """Block until the execute action (and the sim's services) are up."""
        deadline = time.monotonic() + timeout
        needed = [("execute action", lambda: self.execute_client.server_is_ready())]
        if sim:
            needed.append(("reset_scene service", self.reset_client.service_is_ready))
        for name, ready in needed:
            while not ready():
                if time.monotonic() > deadline:
                    raise GraphTimeout(f"the {name} of {self.get_namespace()} did not appear within {timeout:.0f} s")
                time.sleep(0.05)

    # --- sim -------------------------------------------------------------------------------------------
    def reset_scene(self, task: str = "", seed: int = -1, template: str = "", timeout: float = 30.0):
        request = ResetScene.Request(task=task, seed=seed, instruction_template=template)
        response = self._wait(self.reset_client.call_async(request), timeout, "reset_scene")
        if not response.success:
            raise VlmRosError(response.message)
        return response

    def check_task(self, timeout: float = 30.0) -> tuple[bool, str]:
        response = self._wait(self.check_client.call_async(CheckTask.Request()), timeout, "check_task")
        return bool(response.success), response.reason

    def frame(self, topic: str = "image", after_ns: int = -1, timeout: float = 5.0) -> np.ndarray | None:
        """The latest image on `topic`, waiting up to `timeout` for one stamped after `after_ns`."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self.latest.get(topic)
            if msg is not None and time_ns(msg.header.stamp) > after_ns:
                return to_rgb8(msg)
            if time.monotonic() > deadline:
                return to_rgb8(msg) if msg is not None else None
            time.sleep(0.02)

    def latest_stamp_ns(self, topic: str = "image") -> int:
        msg = self.latest.get(topic)
        return time_ns(msg.header.stamp) if msg is not None else -1

    # --- instructions ----------------------------------------------------------------------------------
    def say(self, instruction: str, not_before: Time | None = None, dry_run: bool = False,
            timeout: float = 180.0) -> Outcome:
        """Send one instruction through the execute action and wait for the outcome."""
        goal = ExecuteInstruction.Goal(instruction=instruction, dry_run=dry_run, not_before=not_before or Time())
        feedback: list[str] = []

        def on_feedback(msg) -> None:
            fb = msg.feedback
            line = (f"{fb.stage} {fb.step + 1}/{fb.total_steps} {fb.detail}" if fb.stage == "executing"
                    else f"{fb.stage} {fb.detail}")
            feedback.append(f"[attempt {fb.attempt}] {line}" if fb.attempt else line)

        start = time.monotonic()
        handle = self._wait(self.execute_client.send_goal_async(goal, feedback_callback=on_feedback), timeout,
                            "the execute action")
        if not handle.accepted:
            raise VlmRosError("the execute action rejected the instruction")
        result = self._wait(handle.get_result_async(), timeout, "the execute action").result
        return Outcome(instruction, plan_from_msg(result.plan), bool(result.success), result.message,
                       list(result.step_results), feedback, time.monotonic() - start, int(result.attempts),
                       bool(result.verification.verified) if result.verification.checked else None)

    def close(self) -> None:
        self._spin.stop()
        self.destroy_node()


def stamp_of(response) -> Time:
    return response.stamp if time_ns(response.stamp) else Time()
