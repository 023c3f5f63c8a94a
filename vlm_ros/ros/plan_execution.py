"""Forwarding a grounded plan to the `execute_plan` action server, and taking it back.

One job: send the goal, forward its feedback, wait at most `execute_timeout_s`, and CANCEL
the executor's goal when our caller cancels, the wait times out, or `stop` is called, so
that giving up on a plan always also stops the arm. Each run has a RunControl; cancelling
it wakes the waiting thread at once (no polling), which sends the executor's cancel request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from action_msgs.msg import GoalStatus
from rclpy.action import ActionClient

from vlm_ros_interfaces.action import ExecutePlan
from vlm_ros_interfaces.msg import ActionPlan, StepResult

FeedbackFn = Callable[[int, int, str], None]  # (step index, total steps, detail)


@dataclass
class ExecutionOutcome:
    success: bool
    message: str
    step_results: list[StepResult] = field(default_factory=list)
    canceled: bool = False  # stopped on request (cancel or stop), not failed
    executor_status: int = GoalStatus.STATUS_UNKNOWN
    finished_ns: int = 0  # the executor's stamp of its last step (ExecutePlan result); 0: not given


class RunControl:
    """A run's cancel flag plus the event its waiting thread sleeps on."""

    def __init__(self, key: Any = None):
        self.key = key
        self.reason = ""
        self.cancelled = threading.Event()
        self.wake = threading.Event()
        self.cancelled_at: float | None = None  # time.monotonic() of the first cancel

    def cancel(self, reason: str) -> None:
        if not self.cancelled.is_set():
            self.reason, self.cancelled_at = reason, time.monotonic()
            self.cancelled.set()
        self.wake.set()

    def wait_for(self, future: Future) -> Any | None:
        """future's result, or None as soon as the run is cancelled."""
        future.add_done_callback(lambda _f: self.wake.set())
        while not future.done():
            if self.cancelled.is_set():
                return None
            self.wake.wait()
            self.wake.clear()
        return future.result()


class PlanForwarder:
    """Client of one ExecutePlan action; tracks every run so `stop_all` can cancel them."""

    def __init__(self, node: Any, action_name: str, callback_group: Any, timeout_s: float,
                 server_wait_s: float = 5.0, cancel_wait_s: float = 5.0):
        self.client = ActionClient(node, ExecutePlan, action_name, callback_group=callback_group) \
            if action_name else None
        self.action_name = action_name
        self.timeout_s = timeout_s
        self.server_wait_s = server_wait_s
        self.cancel_wait_s = cancel_wait_s  # how long a cancelled executor may take to report back
        self._runs: dict[Any, RunControl] = {}
        self._lock = threading.Lock()

    # --- run registry -------------------------------------------------------------------------------
    def open(self, key: Any = None) -> RunControl:
        control = RunControl(key if key is not None else object())
        with self._lock:
            self._runs[control.key] = control
        return control

    def close(self, control: RunControl) -> None:
        with self._lock:
            self._runs.pop(control.key, None)

    def cancel(self, key: Any, reason: str = "cancelled") -> bool:
        with self._lock:
            control = self._runs.get(key)
        if control is not None:
            control.cancel(reason)
        return control is not None

    def stop_all(self, reason: str = "stopped") -> int:
        """Cancel every open run; returns how many."""
        with self._lock:
            runs = list(self._runs.values())
        for control in runs:
            control.cancel(reason)
        return len(runs)

    # --- one plan -----------------------------------------------------------------------------------
    def run(self, plan_msg: ActionPlan, control: RunControl, feedback: FeedbackFn | None = None) -> ExecutionOutcome:
        """Execute plan_msg on the executor; returns when it finished, or was cancelled and confirmed."""
        if self.client is None:
            return ExecutionOutcome(False, "No executor is configured (execute_plan_action is empty).")
        if not self.client.wait_for_server(timeout_sec=self.server_wait_s):
            return ExecutionOutcome(False, f"The executor action {self.action_name!r} is not available.")
        total = len(plan_msg.steps)
        state: dict[str, Any] = {"step": 0}

        def on_feedback(msg: Any) -> None:
            fb = msg.feedback
            state["step"] = int(fb.step)
            if feedback is not None:
                feedback(int(fb.step), int(fb.total_steps) or total, fb.detail)

        def on_goal(future: Any) -> None:
            state["handle"] = future.result()
            control.wake.set()
            if state["handle"].accepted:
                state["handle"].get_result_async().add_done_callback(on_result)

        def on_result(future: Any) -> None:
            state["result"] = future.result()
            control.wake.set()

        if control.cancelled.is_set():
            return self._cancelled(control, None, state)
        self.client.send_goal_async(ExecutePlan.Goal(plan=plan_msg), feedback_callback=on_feedback) \
            .add_done_callback(on_goal)
        deadline = time.monotonic() + self.timeout_s
        while True:
            handle = state.get("handle")
            if handle is not None and not handle.accepted:
                return ExecutionOutcome(False, "The executor rejected the plan.")
            if "result" in state:
                return self._finished(state["result"])
            if control.cancelled.is_set():
                return self._cancelled(control, handle, state)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                control.cancel(f"the executor did not finish within {self.timeout_s:.0f} s")
                outcome = self._cancelled(control, handle, state)
                outcome.canceled = False  # a timeout is a failure, though the arm was stopped the same way
                return outcome
            control.wake.wait(remaining)
            control.wake.clear()

    def _finished(self, response: Any) -> ExecutionOutcome:
        result = response.result
        outcome = ExecutionOutcome(bool(result.success), result.message, list(result.results),
                                   executor_status=int(response.status),
                                   finished_ns=int(result.stamp.sec) * 1_000_000_000 + int(result.stamp.nanosec))
        if response.status == GoalStatus.STATUS_CANCELED:
            outcome.success, outcome.canceled = False, True
        elif response.status != GoalStatus.STATUS_SUCCEEDED:
            outcome.success = False
        return outcome

    def _cancelled(self, control: RunControl, handle: Any, state: dict[str, Any]) -> ExecutionOutcome:
        """Cancel the executor's goal (once it has one) and wait a little for its report of what was done."""
        deadline = time.monotonic() + self.cancel_wait_s
        while handle is None and "handle" not in state and time.monotonic() < deadline:  # goal still in flight
            control.wake.wait(deadline - time.monotonic())
            control.wake.clear()
        handle = handle or state.get("handle")
        if handle is None or not handle.accepted:
            return ExecutionOutcome(False, f"Cancelled ({control.reason}) before the executor started.",
                                    canceled=True)
        handle.cancel_goal_async()
        while "result" not in state and time.monotonic() < deadline:
            control.wake.wait(deadline - time.monotonic())
            control.wake.clear()
        if "result" in state:
            outcome = self._finished(state["result"])
            steps = outcome.step_results
            done = sum(1 for s in steps if s.success)
            if outcome.executor_status == GoalStatus.STATUS_SUCCEEDED and outcome.success:
                return outcome  # it finished before the cancel took effect
            outcome.success, outcome.canceled = False, True
            outcome.message = f"Cancelled ({control.reason}) after {done} step(s); executor: {outcome.message}"
            return outcome
        done = state["step"]
        return ExecutionOutcome(False, f"Cancelled ({control.reason}); the executor has not confirmed the cancel "
                                f"within {self.cancel_wait_s:.0f} s (it was on step {done + 1}).", canceled=True)
