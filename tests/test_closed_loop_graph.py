"""The closed loop through a real rclpy graph: sim bridge with injected faults, grounding node with the shipped model.

slip=1.0 on the first plan after a reset (fault_plans=1): attempt 1 drops the block, the node sees it is
not in the bowl on a frame taken after the last step, re-plans on that frame and attempt 2 puts it there.
With slip on every plan, max_attempts=2 ends with a clear message.
"""

from __future__ import annotations

import itertools
import time

import pytest
import rclpy
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.parameter import Parameter

from tests.ros_graph import spin_in_background
from vlm_ros.models import DEFAULT_WEIGHTS_PATH
from vlm_ros.ros.msg_conversion import time_ns
from vlm_ros_interfaces.action import ExecuteInstruction
from vlm_ros_interfaces.msg import ActionPlan
from vlm_ros_interfaces.srv import CheckTask, ResetScene

pytestmark = [pytest.mark.ros, pytest.mark.sim,
              pytest.mark.skipif(not (DEFAULT_WEIGHTS_PATH / "config.json").exists(), reason="no shipped weights")]
_names = itertools.count()


def wait(future, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not future.done():
        assert time.monotonic() < deadline, "no answer"
        time.sleep(0.005)
    return future.result()


class User(Node):
    def __init__(self, namespace: str):
        super().__init__("test_user", namespace=namespace)
        self.execute = ActionClient(self, ExecuteInstruction, "execute")
        self.reset_client = self.create_client(ResetScene, "reset_scene")
        self.check_client = self.create_client(CheckTask, "check_task")
        self.plans: list[ActionPlan] = []
        self.create_subscription(ActionPlan, "plan", self.plans.append, 10)

    def reset(self, seed: int) -> ResetScene.Response:
        assert self.reset_client.wait_for_service(timeout_sec=30.0)
        return wait(self.reset_client.call_async(ResetScene.Request(task="put-block-in-bowl", seed=seed)))

    def check(self) -> CheckTask.Response:
        return wait(self.check_client.call_async(CheckTask.Request()))

    def run(self, instruction: str, not_before):
        assert self.execute.wait_for_server(timeout_sec=60.0)
        feedback: list = []
        goal = ExecuteInstruction.Goal(instruction=instruction, not_before=not_before)
        handle = wait(self.execute.send_goal_async(goal, feedback_callback=lambda f: feedback.append(f.feedback)))
        return wait(handle.get_result_async(), 300.0).result, feedback


@pytest.fixture(scope="module")
def graph():
    from vlm_ros.ros.grounding_node import GroundingNode
    from vlm_ros.sim.bridge_node import SimBridgeNode

    rclpy.init()
    namespace = f"/loop{next(_names)}"
    bridge = SimBridgeNode(namespace=namespace, parameter_overrides=[
        Parameter(k, value=v) for k, v in {"rate_hz": 10.0, "publish_clock": False, "fault_slip": 1.0,
                                           "fault_plans": 1}.items()])
    node = GroundingNode(namespace=namespace, parameter_overrides=[
        Parameter(k, value=v) for k, v in {"backend": "onnxruntime", "verify": True, "max_attempts": 3,
                                           "max_frame_age_s": 0.0, "publish_debug_image": False}.items()])
    user = User(namespace)
    spinners = [spin_in_background(n, threads) for n, threads in ((bridge, 3), (node, 4), (user, 2))]
    yield bridge, node, user
    for spinner in spinners:
        spinner.stop()
    for n in (user, node, bridge):
        n.destroy_node()
    rclpy.shutdown()


def test_a_dropped_block_is_noticed_and_the_second_attempt_puts_it_in_the_bowl(graph):
    bridge, _, user = graph
    scene = user.reset(310001)
    result, feedback = user.run(scene.instruction, scene.stamp)
    stages = [(f.stage, f.attempt) for f in feedback]
    assert result.success, (result.message, stages)
    assert result.attempts == 2 and bridge.faults.log[:1] == ["slip"]
    first_check = next(f.verification for f in feedback if f.stage == "verified" and f.attempt == 1)
    assert first_check.checked and not first_check.verified and "not in the" in first_check.message
    assert time_ns(first_check.stamp) >= time_ns(scene.stamp)
    assert ("replanning", 2) in stages and ("executing", 2) in stages
    # attempt 2 executed exactly the re-grounded pick and place: nothing already done was repeated
    assert [s.type_name for s in result.plan.steps] == ["pick", "place"]
    assert [(r.index, r.success) for r in result.step_results] == [(0, True), (1, True)]
    assert result.verification.verified and result.verification.attempt == 2
    finding = result.verification.findings[0]
    assert finding.satisfied and finding.found and finding.distance < finding.tolerance
    assert user.check().success  # the sim agrees
    deadline = time.monotonic() + 5.0
    while not any(p.verification.checked and p.verification.verified for p in user.plans):
        assert time.monotonic() < deadline, "the verified plan was never published on `plan`"
        time.sleep(0.05)


def test_out_of_attempts_says_so(graph):
    bridge, node, user = graph
    bridge.set_parameters([Parameter("fault_plans", value=0)])  # every plan slips
    node.set_parameters([Parameter("max_attempts", value=2)])
    try:
        scene = user.reset(310002)
        result, feedback = user.run(scene.instruction, scene.stamp)
    finally:
        bridge.set_parameters([Parameter("fault_plans", value=1)])
        node.set_parameters([Parameter("max_attempts", value=3)])
    assert not result.success and result.attempts == 2
    assert {f.attempt for f in feedback if f.stage == "executing"} == {1, 2}
    assert result.message.startswith("Gave up after 2 attempts"), result.message
    assert result.verification.checked and not result.verification.verified
    assert not user.check().success
