"""The grounding node's `execute` action and `stop` service: ground, then run the plan on the executor.

Cancelling an `execute` goal, the `stop` service and a timed-out executor all end the same
way: the forwarded `execute_plan` goal is cancelled, so giving up on a plan stops the arm.
A goal cancelled by its client ends CANCELED; one ended by `stop` ends ABORTED (ROS only
lets a goal end CANCELED after its client asked), both with the steps done so far.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from std_srvs.srv import Trigger

from vlm_ros.core.types import Plan
from vlm_ros.ros.closed_loop_runner import ClosedLoopRunner
from vlm_ros.ros.msg_conversion import plan_to_msg
from vlm_ros.ros.plan_execution import ExecutionOutcome, PlanForwarder, RunControl
from vlm_ros_interfaces.action import ExecuteInstruction


class ExecuteActions:
    """Owns the `execute` server, the `stop` service and the client of the executor's `execute_plan`."""

    def __init__(self, node: Any, callback_group: Any):
        self.node = node
        p = node.params
        self.forwarder = PlanForwarder(node, p["execute_plan_action"], callback_group, p["execute_timeout_s"])
        self.server = ActionServer(
            node, ExecuteInstruction, "execute", self._on_execute, callback_group=callback_group,
            goal_callback=lambda _goal: GoalResponse.ACCEPT, cancel_callback=self._on_cancel)
        node.create_service(Trigger, "stop", self._on_stop, callback_group=callback_group)
        self.closed_loop = ClosedLoopRunner(node, self)

    # --- plans grounded elsewhere (the instruction topic) -------------------------------------------------
    def execute_in_background(self, future: Future) -> None:
        """Done-callback of a topic grounding: run an OK plan off the grounding worker."""
        plan = future.result()
        if plan.ok:  # a moving arm must not hold up the next grounding
            threading.Thread(target=self.node.guard.wrap("topic execution", self.run_plan), args=(plan,),
                             daemon=True).start()

    def run_plan(self, plan: Plan, goal_handle: Any = None, control: RunControl | None = None) -> ExecutionOutcome:
        own = control is None
        control = control or self.forwarder.open()
        total = len(plan.steps)

        def forward(step: int, total_steps: int, detail: str) -> None:
            if goal_handle is not None:
                goal_handle.publish_feedback(ExecuteInstruction.Feedback(
                    stage="executing", step=step, total_steps=total_steps or total, detail=detail))

        try:
            return self.forwarder.run(plan_to_msg(plan), control, forward)
        finally:
            if own:
                self.forwarder.close(control)

    # --- callbacks ----------------------------------------------------------------------------------------
    def _on_cancel(self, goal_handle: Any) -> CancelResponse:
        self.forwarder.cancel(bytes(goal_handle.goal_id.uuid), "cancel requested")
        return CancelResponse.ACCEPT

    def _on_stop(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        count = self.forwarder.stop_all("stop service")
        response.success = True
        response.message = f"Stop: cancelled {count} running plan(s)." if count else "Stop: nothing was running."
        self.node.get_logger().warning(response.message)
        return response

    def _on_execute(self, goal_handle: Any) -> ExecuteInstruction.Result:
        request = goal_handle.request
        control = self.forwarder.open(bytes(goal_handle.goal_id.uuid))
        try:
            result = self._execute(goal_handle, control)
        except Exception as error:  # the action must always end, never leave the goal hanging
            plan = self.node.internal_error(request.instruction, "executing", error)
            result = ExecuteInstruction.Result(plan=plan_to_msg(plan), success=False, message=plan.message)
        finally:
            self.forwarder.close(control)
        goal_handle.publish_feedback(ExecuteInstruction.Feedback(stage="done", detail=result.message))
        if result.success:
            goal_handle.succeed()
        elif goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return result

    def _execute(self, goal_handle: Any, control: RunControl) -> ExecuteInstruction.Result:
        request = goal_handle.request
        goal_handle.publish_feedback(ExecuteInstruction.Feedback(stage="grounding", detail=request.instruction))
        future = self.node.submit(request.instruction, request.not_before)  # checked in ground()
        plan = self.node.busy_plan(request.instruction) if future is None else control.wait_for(future)
        if plan is None:  # cancelled while queued or grounding: nothing was sent to the executor
            return ExecuteInstruction.Result(success=False, message=f"Cancelled ({control.reason}) before execution.")
        result = ExecuteInstruction.Result(plan=plan_to_msg(plan))
        if not plan.ok:
            result.success, result.message = False, plan.message
        elif request.dry_run:
            result.success, result.message = True, "Dry run: the plan was grounded and not executed."
        elif self.closed_loop.enabled:  # verify after execution and re-plan (vlm_ros.ros.closed_loop_runner)
            return self.closed_loop.run(plan, goal_handle, control)
        else:
            outcome = self.run_plan(plan, goal_handle, control)
            result.success, result.message, result.step_results = (outcome.success, outcome.message,
                                                                    outcome.step_results)
        return result
