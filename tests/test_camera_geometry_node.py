"""grounding_node's camera geometry through a real graph: camera_pose frame checks, lens distortion,
assume_rectified, and a debug image rendered only for subscribers."""

from __future__ import annotations

import itertools
import time

import cv2
import numpy as np
import pytest
from geometry_msgs.msg import TransformStamped
from sensor_msgs.msg import Image

from tests.ros_graph import ANYWHERE, HEIGHT, WIDTH, camera_info, grounding_graph
from vlm_ros.geometry.transforms import matrix_to_pose, transform_point
from vlm_ros.qa.model_outputs import downward_camera
from vlm_ros.ros.camera_geometry import LATCHED
from vlm_ros.ros.image_conversion import image_to_numpy
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = [pytest.mark.ros, pytest.mark.usefixtures("ros_context")]

DOWN = downward_camera()  # 0.8 m above (0.5, 0, 0), looking straight down
PIXEL = (8.0, 6.0)  # near a corner, where distortion matters most
_names = itertools.count()


@pytest.fixture
def graph(request):
    overrides = {"backend": "test-fixed", "test_program": f"pick(red block) @ ({PIXEL[0]}, {PIXEL[1]})",
                 "camera_to_base": matrix_to_pose(DOWN), **ANYWHERE, **getattr(request, "param", {})}
    with grounding_graph(f"/g{next(_names)}", **overrides) as (node, client):
        client.node_under_test = node
        yield client


def frame(graph, info=None) -> None:
    graph.publish_frame(np.full((HEIGHT, WIDTH, 3), 120, np.uint8), np.full((HEIGHT, WIDTH), 0.8, np.float32),
                        info or camera_info())


def publish_camera_pose(graph, parent: str, child: str) -> None:
    pub = graph.create_publisher(TransformStamped, "camera_pose", LATCHED)
    msg = TransformStamped()
    msg.header.frame_id, msg.child_frame_id = parent, child
    x, y, z, qx, qy, qz, qw = matrix_to_pose(DOWN)
    msg.transform.translation.x, msg.transform.translation.y, msg.transform.translation.z = x, y, z
    msg.transform.rotation.x, msg.transform.rotation.y, msg.transform.rotation.z, msg.transform.rotation.w = (
        qx, qy, qz, qw)
    pub.publish(msg)
    deadline = time.monotonic() + 5.0
    while graph.node_under_test.camera_geometry.resolver.camera_pose is None:
        assert time.monotonic() < deadline, "camera_pose never arrived"
        time.sleep(0.02)


def position(plan: ActionPlan) -> np.ndarray:
    p = plan.steps[0].pose.position
    return np.array([p.x, p.y, p.z])


def test_camera_pose_with_matching_frames_is_used(graph):
    publish_camera_pose(graph, "base_link", "camera_color_optical_frame")
    frame(graph)
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message


@pytest.mark.parametrize("parent,child,says", [
    ("world", "camera_color_optical_frame", "frame_id is 'world', not the base frame 'base_link'"),
    ("base_link", "camera_depth_optical_frame",
     "child_frame_id is 'camera_depth_optical_frame', not the image's frame_id 'camera_color_optical_frame'"),
])
def test_camera_pose_between_other_frames_is_an_error_saying_which(graph, parent, child, says):
    publish_camera_pose(graph, parent, child)
    frame(graph)
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.ERROR and says in plan.message, plan.message
    assert not plan.steps


def distorted_info(model: str, d: list[float]):
    info = camera_info()
    info.distortion_model, info.d = model, d
    return info


def test_plumb_bob_distortion_is_undone_before_back_projection(graph):
    d = [-0.3, 0.1, 0.001, -0.002, 0.0]
    frame(graph, distorted_info("plumb_bob", d))
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message
    k = np.array(camera_info().k).reshape(3, 3)
    xn, yn = cv2.undistortPoints(np.array([[PIXEL]], np.float64), k, np.array(d)).reshape(2)
    expected = transform_point(DOWN, np.array([xn * 0.8, yn * 0.8, 0.8]))
    assert np.linalg.norm(position(plan) - expected) < 1e-4
    naive = transform_point(DOWN, np.array([(PIXEL[0] - k[0, 2]) / k[0, 0] * 0.8, (PIXEL[1] - k[1, 2]) / k[1, 1] * 0.8,
                                            0.8]))
    assert np.linalg.norm(position(plan) - naive) > 0.01  # it made a difference


def test_unknown_distortion_model_is_an_error(graph):
    frame(graph, distorted_info("kannala_brandt", [0.1, 0.01, 0.0, 0.0]))
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.ERROR and "'kannala_brandt'" in plan.message
    assert "assume_rectified" in plan.message


@pytest.mark.parametrize("graph", [{"assume_rectified": True}], indirect=True)
def test_assume_rectified_accepts_it_and_ignores_d(graph):
    frame(graph, distorted_info("kannala_brandt", [0.1, 0.01, 0.0, 0.0]))
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message


def test_debug_image_is_drawn_only_when_someone_subscribes(graph, monkeypatch):
    import vlm_ros.ros.grounding_node as grounding_node

    calls = []
    real = grounding_node.draw_plan
    monkeypatch.setattr(grounding_node, "draw_plan", lambda rgb, plan: calls.append(1) or real(rgb, plan))
    frame(graph)
    assert graph.ground("pick the red block").status == ActionPlan.OK
    assert calls == []  # nobody listens: nothing rendered
    images: list[Image] = []
    graph.create_subscription(Image, "debug_image", images.append, 1)
    deadline = time.monotonic() + 5.0
    while graph.node_under_test.debug_pub.get_subscription_count() == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert graph.ground("pick the red block").status == ActionPlan.OK
    deadline = time.monotonic() + 5.0
    while not images:
        assert time.monotonic() < deadline, "no debug image arrived"
        time.sleep(0.02)
    assert len(calls) == 1
    drawn = image_to_numpy(images[0])
    assert (drawn != 120).any(axis=2).sum() > 20  # the point, label and status line are on it
