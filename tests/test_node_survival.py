"""No backend and no drawing step can kill grounding_node: every exception below it is an ERROR plan.

Faults are injected for real: a program whose pixel cv2 cannot draw (it crashed the node's
debug-image drawing before), and a grounder that raises. After each, the node must still
answer the next request with an OK plan.
"""

from __future__ import annotations

import time

import pytest
from std_msgs.msg import String

from tests import test_grounding_node as base
from tests.ros_graph import camera_info
from vlm_ros.ros.grounding_node import LATCHED
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = [pytest.mark.ros, pytest.mark.usefixtures("ros_context")]
rgb, depth = base.rgb, base.depth  # the node tests' frames
HUGE_PIXEL = "pick(red block) @ (32, 24) ; place(left side) @ (99999999999, 10)"  # beyond int32


class RaisingGrounder:
    """A backend with a bug: it raises something no one planned for."""

    model_id = "raising"

    def ground(self, rgb, instruction):
        raise RuntimeError("backend bug: CUDA context lost")


@pytest.fixture
def nodes(request):
    """(grounding node, camera/user node): the node tests' graph, with the node in hand for fault injection."""
    from tests.ros_graph import grounding_graph
    from vlm_ros.geometry.transforms import matrix_to_pose

    overrides = {"backend": "test-fixed", "test_program": base.PROGRAM, "camera_to_base": matrix_to_pose(base.DOWN),
                 **getattr(request, "param", {})}
    with grounding_graph(f"/survive{next(base._names)}", **overrides) as nodes:
        yield nodes


def still_serving(graph, node, program: str) -> None:
    """The next request is answered with an OK plan (on a fresh frame: the faults before may have taken
    longer than max_frame_age, and a stale frame is refused by design)."""
    node.pipeline.grounder.program = program
    graph.publish_frame(rgb(), depth(), camera_info())
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message


@pytest.mark.parametrize("nodes", [{"test_program": HUGE_PIXEL}], indirect=True)
def test_a_pixel_that_cannot_be_drawn_is_an_error_plan(nodes):
    node, graph = nodes
    from sensor_msgs.msg import Image

    graph.create_subscription(Image, "debug_image", lambda _msg: None, 1)  # debug images are drawn for subscribers
    deadline = time.monotonic() + 5.0
    while node.debug_pub.get_subscription_count() == 0:
        assert time.monotonic() < deadline, "debug_image subscriber never matched"
        time.sleep(0.02)
    graph.publish_frame(rgb(), depth(), camera_info())
    for _ in range(2):
        plan = graph.ground("put the red block on the left side")
        assert plan.status == ActionPlan.ERROR and len(plan.steps) == 0, plan.message
    result, _ = graph.execute("put the red block on the left side")  # the action path too
    assert not result.success and result.plan.status == ActionPlan.ERROR
    still_serving(graph, node, base.PROGRAM)


def test_a_grounder_that_raises_is_an_error_plan(nodes):
    node, graph = nodes
    graph.publish_frame(rgb(), depth(), camera_info())
    good = node.pipeline.grounder
    node.pipeline.grounder = RaisingGrounder()
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.ERROR and "internal error" in plan.message.lower(), plan.message
    assert "CUDA context lost" in plan.message
    result, _ = graph.execute("pick the red block", dry_run=True)
    assert not result.success and "CUDA context lost" in result.message
    node.pipeline.grounder = good
    still_serving(graph, node, base.PROGRAM)


@pytest.mark.parametrize("nodes", [{"backend": "oracle"}], indirect=True)
def test_a_failing_callback_costs_one_message_not_the_node(nodes):
    """rclpy re-raises a callback's exception out of spin(); the guard must catch it."""
    node, graph = nodes
    graph.publish_frame(rgb(), depth(), camera_info())
    oracle = node.pipeline.grounder
    program = graph.create_publisher(String, "oracle/program", LATCHED)
    node.pipeline.grounder = RaisingGrounder()  # has no set_program: the oracle/program callback raises
    program.publish(String(data=base.PROGRAM))
    deadline = time.monotonic() + 10.0
    while node.guard.failures == 0:
        assert time.monotonic() < deadline, "the oracle/program callback never ran"
        time.sleep(0.02)
    node.pipeline.grounder = oracle
    program.publish(String(data=base.PROGRAM))
    time.sleep(0.3)
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message  # the executor thread survived and still serves
