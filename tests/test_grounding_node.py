"""grounding_node through a real rclpy graph: every bad input gives an ERROR plan, node lives on."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest
from sensor_msgs.msg import Image
from std_msgs.msg import String

from tests.ros_graph import HEIGHT, WIDTH, camera_info, grounding_graph
from vlm_ros.geometry.transforms import matrix_to_pose
from vlm_ros.qa.model_outputs import downward_camera
from vlm_ros.ros.image_conversion import numpy_to_image, rgb8_to_compressed
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = [pytest.mark.ros, pytest.mark.usefixtures("ros_context")]

DOWN = downward_camera()  # 0.8 m above (0.5, 0, 0), looking straight down
PROGRAM = "pick(red block) @ (32, 24) ; place(left side) @ (10, 10)"
_names = itertools.count()


@pytest.fixture
def graph(request):
    """A grounding node and a camera/user node in a namespace of their own."""
    overrides = {"backend": "test-fixed", "test_program": PROGRAM, "camera_to_base": matrix_to_pose(DOWN),
                 **getattr(request, "param", {})}
    with grounding_graph(f"/t{next(_names)}", **overrides) as (_node, client):
        yield client


def rgb() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 120, np.uint8)


def depth(value: float = 0.8) -> np.ndarray:
    return np.full((HEIGHT, WIDTH), value, np.float32)


def assert_error(plan: ActionPlan, *words: str) -> None:
    assert plan.status == ActionPlan.ERROR, plan.message
    for word in words:
        assert word in plan.message.lower(), plan.message
    assert len(plan.steps) == 0


def test_good_frame_gives_ok_plan_with_3d_targets(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    plan = graph.ground("put the red block on the left side")
    assert plan.status == ActionPlan.OK, plan.message
    assert plan.header.frame_id == "base_link"
    pick, place = plan.steps
    assert pick.type_name == "pick" and pick.target_label == "red block"
    assert np.allclose([pick.pose.position.x, pick.pose.position.y, pick.pose.position.z], [0.5, 0.0, 0.0], atol=1e-3)
    assert np.allclose([place.pose.position.x, place.pose.position.y], [0.5, 0.22], atol=1e-6)
    assert {lat.stage for lat in plan.latency} >= {"projection", "total"}


def test_plan_is_stamped_with_the_image_stamp(graph):
    stamp = graph.now_ns() - 100_000_000
    graph.publish_frame(rgb(), depth(), camera_info(), stamp_ns=stamp)
    plan = graph.ground("pick the red block")
    assert plan.header.stamp.sec * 1_000_000_000 + plan.header.stamp.nanosec == stamp


@pytest.mark.parametrize("graph", [{"frame_wait_s": 0.5}], indirect=True)
def test_not_before_waits_for_a_new_enough_frame(graph):
    old = graph.now_ns()
    graph.publish_frame(rgb(), depth(), camera_info(), stamp_ns=old)
    assert_error(graph.ground("pick the red block", not_before_ns=old + 1), "no camera frame stamped at or after")
    plan = graph.ground("pick the red block", not_before_ns=old)
    assert plan.status == ActionPlan.OK, plan.message
    # a new image whose matching depth has not arrived must not be paired with the older depth
    graph.publish_frame(rgb(), info=camera_info(), stamp_ns=old + 4_000_000)
    assert_error(graph.ground("pick the red block", not_before_ns=old + 4_000_000), "no camera frame")


@pytest.mark.parametrize("graph", [{"frame_wait_s": 60.0}], indirect=True)
@pytest.mark.parametrize("ahead_ns", [None, 10_000_000_000], ids=["stamped-0", "10-s-ahead"])
def test_broken_camera_stamps_are_reported_without_waiting_for_a_better_frame(graph, ahead_ns):
    """A camera that stamps 0 (or runs ahead of our clock) sends no better frame later: say so now."""
    graph.publish_frame(rgb(), depth(), camera_info(), stamp_ns=0 if ahead_ns is None else graph.now_ns() + ahead_ns)
    plan = graph.ground("pick the red block", timeout=20.0)  # far inside frame_wait_s
    assert_error(plan, "stamped 0" if ahead_ns is None else "in the future")


@pytest.mark.parametrize("graph", [{"frame_wait_s": 0.5}], indirect=True)
def test_no_frame_yet(graph):
    assert_error(graph.ground("pick the red block"), "no camera frame")


def test_unknown_encoding(graph):
    image = numpy_to_image(rgb(), "rgb8")
    image.encoding = "yuv_weird"
    graph.publish_frame(depth=depth(), info=camera_info(), image=image)
    assert_error(graph.ground("pick the red block"), "yuv_weird")


def test_data_size_not_matching_step(graph):
    image = numpy_to_image(rgb(), "rgb8")
    image.data = bytes(image.data)[:-10]
    graph.publish_frame(depth=depth(), info=camera_info(), image=image)
    assert_error(graph.ground("pick the red block"), "9206 bytes", "height × step")


def test_zero_size_image(graph):
    image = Image(height=0, width=0, encoding="rgb8", step=0)
    graph.publish_frame(depth=depth(), info=camera_info(), image=image)
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.ERROR and plan.message


def test_depth_and_image_size_mismatch(graph):
    graph.publish_frame(rgb(), np.full((HEIGHT // 2, WIDTH // 2), 0.8, np.float32), camera_info())
    assert_error(graph.ground("pick the red block"), "depth", "size")


@pytest.mark.parametrize("bad", [np.nan, 0.0])
def test_invalid_depth_at_target(graph, bad):
    graph.publish_frame(rgb(), depth(bad), camera_info())
    assert_error(graph.ground("pick the red block"), "no valid depth")


def test_zero_depth_in_millimetres(graph):
    graph.publish_frame(rgb(), depth_msg=numpy_to_image(np.zeros((HEIGHT, WIDTH), np.uint16), "16UC1"),
                        info=camera_info())
    assert_error(graph.ground("pick the red block"), "no valid depth")


def test_depth_in_millimetres_is_converted(graph):
    graph.publish_frame(rgb(), depth_msg=numpy_to_image(np.full((HEIGHT, WIDTH), 800, np.uint16), "16UC1"),
                        info=camera_info())
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message
    assert abs(plan.steps[0].pose.position.z) < 1e-3


def test_missing_camera_info(graph):
    graph.publish_frame(rgb(), depth())
    assert_error(graph.ground("pick the red block"), "camera_info")


@pytest.mark.parametrize("instruction", ["", "   \t\n "])
def test_empty_instruction(graph, instruction):
    graph.publish_frame(rgb(), depth(), camera_info())
    assert_error(graph.ground(instruction), "empty")


def test_instruction_over_length_limit(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    assert_error(graph.ground("put the red block in the green bowl " * 20), "limit")


@pytest.mark.parametrize("graph", [{"frame_wait_s": 0.5}], indirect=True)
def test_stale_frame(graph):
    graph.publish_frame(rgb(), depth(), camera_info(), stamp_ns=graph.now_ns() - 10_000_000_000)
    assert_error(graph.ground("pick the red block"), "old")


def test_stale_frame_waits_for_a_fresh_one(graph):
    """Frames lost on a loaded machine delay the plan; the next frame to arrive is used."""
    graph.publish_frame(rgb(), depth(), camera_info(), stamp_ns=graph.now_ns() - 10_000_000_000)
    fresh = threading.Timer(0.3, lambda: graph.publish_frame(rgb(), depth(), camera_info()))
    fresh.start()
    plan = graph.ground("pick the red block")
    fresh.join()
    assert plan.status == ActionPlan.OK, plan.message
    assert graph.now_ns() - (plan.header.stamp.sec * 1_000_000_000 + plan.header.stamp.nanosec) < 5_000_000_000


def test_node_keeps_working_after_bad_input(graph):
    graph.publish_frame(rgb(), depth(np.nan), camera_info())
    assert graph.ground("pick the red block").status == ActionPlan.ERROR
    assert graph.ground("").status == ActionPlan.ERROR
    graph.publish_frame(rgb(), depth(), camera_info())
    assert graph.ground("pick the red block").status == ActionPlan.OK


@pytest.mark.parametrize("graph", [{"test_program": "pick(red block) @ (0, 0)"}], indirect=True)
def test_target_outside_workspace_is_refused(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.REFUSED
    assert "outside the workspace" in plan.message


@pytest.mark.parametrize("graph", [{"test_program": "refuse(purple block)"}], indirect=True)
def test_refusal_names_the_missing_object(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    plan = graph.ground("pick the purple block")
    assert plan.status == ActionPlan.REFUSED and "purple block" in plan.message


@pytest.mark.parametrize("graph", [{"test_program": "pick(red block) @ (32, 24"}], indirect=True)
def test_malformed_model_output_is_an_error(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    assert_error(graph.ground("pick the red block"), "could not be understood")


@pytest.mark.parametrize("graph", [{"use_compressed": True}], indirect=True)
def test_compressed_images(graph):
    from sensor_msgs.msg import CompressedImage

    compressed = rgb8_to_compressed(rgb(), "png")
    assert isinstance(compressed, CompressedImage)
    graph.image_pub = graph.create_publisher(CompressedImage, "image/compressed", 10)
    graph.publish_frame(depth=depth(), info=camera_info(), image=compressed)
    assert graph.ground("pick the red block").status == ActionPlan.OK


def test_instruction_topic_publishes_a_plan(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    graph.instruction_pub.publish(String(data="pick the red block"))
    import time

    deadline = time.monotonic() + 10
    while not graph.plans and time.monotonic() < deadline:
        time.sleep(0.05)
    assert graph.plans and graph.plans[-1].status == ActionPlan.OK


def test_execute_dry_run_grounds_without_executing(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    result, feedback = graph.execute("pick the red block", dry_run=True)
    assert result.success and result.plan.status == ActionPlan.OK
    assert "dry run" in result.message.lower()
    assert feedback and feedback[0].stage == "grounding"


def test_execute_without_executor_fails_cleanly(graph):
    graph.publish_frame(rgb(), depth(), camera_info())
    result, _ = graph.execute("pick the red block")
    assert not result.success and "no executor" in result.message.lower()


@pytest.mark.parametrize("graph", [{"backend": "torch", "model_path": "/nonexistent/model"}], indirect=True)
def test_missing_model_is_reported_not_fatal(graph):
    """A model that does not load leaves the lifecycle node unconfigured, with the reason in /diagnostics."""
    from diagnostic_msgs.msg import DiagnosticArray
    from lifecycle_msgs.srv import GetState

    client = graph.create_client(GetState, "grounding_node/get_state")
    assert client.wait_for_service(timeout_sec=10.0)
    assert client.call(GetState.Request(), timeout_sec=10.0).current_state.label == "unconfigured"
    assert not graph.ground_client.wait_for_service(timeout_sec=0.5)  # nothing to call while unconfigured
    statuses: list = []
    graph.create_subscription(DiagnosticArray, "/diagnostics", lambda m: statuses.extend(m.status), 10)
    deadline = time.monotonic() + 10.0
    while not any("/nonexistent/model" in s.message for s in statuses):
        assert time.monotonic() < deadline, [s.message for s in statuses]
        time.sleep(0.05)
    assert any(s.message.startswith("not configured") for s in statuses)
