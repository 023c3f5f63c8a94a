"""The `execute` action's closed loop in the grounding node: verify after execution, re-plan what is left.

Wiring only: vlm_ros.grounding.closed_loop runs the attempts; this module hands it the node's
grounding queue, the executor client (cancellable through the run's RunControl) and the camera
cache, and turns its events into ExecuteInstruction feedback, `plan` messages that carry the
verification, and /diagnostics values. With `verify` off and `max_attempts` 1 the node does
not come here at all and behaves as before.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import Plan, PlanStatus
from vlm_ros.geometry.projection import Projector
from vlm_ros.grounding.closed_loop import ClosedLoop, Execution, LoopResult
from vlm_ros.grounding.verification import Tolerances, Verification, Verifier
from vlm_ros.ros.msg_conversion import frame_from_raw, plan_to_msg
from vlm_ros.ros.verification_msgs import verification_to_msg
from vlm_ros_interfaces.action import ExecuteInstruction


class _AttemptFeedback:
    """A goal handle whose feedback carries the attempt number (the forwarder does not know it)."""

    def __init__(self, goal_handle: Any, attempt: int):
        self.goal_handle, self.attempt = goal_handle, attempt

    def publish_feedback(self, msg: ExecuteInstruction.Feedback) -> None:
        msg.attempt = self.attempt
        self.goal_handle.publish_feedback(msg)


class _Serialized:
    """The verifier, with its grounder calls under the node's grounding lock (backends are not thread-safe)."""

    def __init__(self, verifier: Verifier, lock: threading.Lock):
        self._verifier, self._lock = verifier, lock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._verifier, name)

    def verify(self, *args: Any, **kwargs: Any) -> Verification:
        with self._lock:
            return self._verifier.verify(*args, **kwargs)


class ClosedLoopRunner:
    """Owned by the node's ExecuteActions; `enabled` says whether an execute goal goes through it."""

    def __init__(self, node: Any, actions: Any):
        self.node, self.actions = node, actions
        p = node.params
        self.tolerances = Tolerances(block_size=p["verify_block_size"], bowl_diameter=p["verify_bowl_diameter"],
                                     location_radius=p["verify_location_radius"])
        self.locator = p["verify_locator"]
        self.counts: Counter[str] = Counter()
        self.last_message = ""

    @property
    def verify(self) -> bool:  # read per goal, so `ros2 param set` takes effect on the next one
        return bool(self.node.get_parameter("verify").value)

    @property
    def max_attempts(self) -> int:
        return int(self.node.get_parameter("max_attempts").value)

    @property
    def enabled(self) -> bool:
        return self.verify or self.max_attempts > 1

    def verifier(self, projector: Projector) -> _Serialized | None:
        """projector: lifts the verification frame's pixels; `run` sets its camera→base per frame (tf)."""
        pipeline = self.node.pipeline
        if pipeline is None:
            return None
        verifier = Verifier(pipeline.grounder, projector, self.tolerances, pipeline.config.table_height,
                            pipeline.config.locations, self.locator)
        return _Serialized(verifier, self.node._lock)

    def diagnostics(self) -> dict[str, str]:
        return {"verifications": ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())),
                "last_verification": self.last_message}

    # --- one goal ---------------------------------------------------------------------------------------
    def run(self, plan: Plan, goal_handle: Any, control: Any) -> ExecuteInstruction.Result:
        node, actions = self.node, self.actions

        def ground(instruction: str, not_before_ns: int) -> Plan:
            future = node.submit(instruction, not_before_ns)
            if future is None:
                return node.busy_plan(instruction)
            replanned = control.wait_for(future)
            if replanned is None:
                return Plan(instruction, PlanStatus.ERROR, f"Cancelled ({control.reason}) while re-planning.")
            return replanned

        def execute(attempt_plan: Plan, attempt: int) -> Execution:
            outcome = actions.run_plan(attempt_plan, _AttemptFeedback(goal_handle, attempt), control)
            return Execution(outcome.success, outcome.message, outcome.step_results, outcome.finished_ns,
                             outcome.canceled)

        # the camera→base of each verification frame, as grounding resolves it (tf, camera_pose, parameter)
        projector = Projector(node.pipeline.projector.camera_to_base.copy(), node.pipeline.projector.depth_window) \
            if node.pipeline is not None else None

        def observe(not_before_ns: int):
            try:
                raw = node.frames.frame(not_before_ns or node.get_clock().now().nanoseconds)
                frame = frame_from_raw(raw, node.params["assume_rectified"]) if raw is not None else None
                if frame is not None and projector is not None:
                    projector.camera_to_base = node.camera_geometry.resolve(frame).matrix
                return frame
            except InputError as error:
                node.get_logger().warning(f"no frame to verify on: {error}")
                return None

        attempt_plans: dict[int, Plan] = {}

        def on_event(stage: str, attempt: int, detail: str, verification: Verification | None) -> None:
            goal_handle.publish_feedback(ExecuteInstruction.Feedback(
                stage=stage, attempt=attempt, detail=detail, verification=verification_to_msg(verification)))
            if stage == "verified" and verification is not None:
                self._record(attempt_plans.get(attempt, plan), verification)

        def execute_tracked(attempt_plan: Plan, attempt: int) -> Execution:
            attempt_plans[attempt] = attempt_plan
            return execute(attempt_plan, attempt)

        verifier = self.verifier(projector) if self.verify and projector is not None else None
        loop = ClosedLoop(ground, execute_tracked, observe, verifier, self.max_attempts, on_event)
        return self._result(loop.run(plan.instruction, plan=plan))

    def _record(self, plan: Plan, verification: Verification) -> None:
        """Publish the checked plan again on `plan`, with its verification, and count it for /diagnostics."""
        msg = plan_to_msg(plan)
        msg.verification = verification_to_msg(verification)
        self.node.plan_pub.publish(msg)
        self.counts["verified" if verification.verified else "not verified" if verification.checked
                    else "not checked"] += 1
        self.last_message = verification.message
        text = f"attempt {verification.attempt}: {verification.message}"
        if verification.verified:  # rclpy forbids one call site logging at two severities
            self.node.get_logger().info(text)
        else:
            self.node.get_logger().warning(text)

    @staticmethod
    def _result(loop: LoopResult) -> ExecuteInstruction.Result:
        msg = plan_to_msg(loop.plan)
        verification = verification_to_msg(loop.verification)
        msg.verification = verification
        last = loop.attempts[-1].execution if loop.attempts else None
        return ExecuteInstruction.Result(
            plan=msg, success=loop.success, message=loop.message,
            step_results=list(last.step_results) if last is not None else [],
            attempts=len(loop.attempts), verification=verification)
