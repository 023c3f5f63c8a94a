"""tf through a real graph: another process publishes /tf_static and a moving /tf chain, and the
node's targets land where the chain says (bar: within 1 mm), for a fixed and a wrist camera."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy

from tests.ros_graph import ANYWHERE, HEIGHT, WIDTH, CameraAndUser, camera_info, grounding_graph, stamped
from tests.tf_chain import chain_at
from vlm_ros.core.types import CameraIntrinsics
from vlm_ros.geometry.projection import back_project
from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = pytest.mark.ros
ROOT = Path(__file__).resolve().parents[1]
PIXEL, DEPTH = (10.0, 40.0), 0.75
INTRINSICS = CameraIntrinsics(60.0, 60.0, WIDTH / 2, HEIGHT / 2, WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def cell():
    """The tf publisher process, a grounding node (tf on, identity camera_to_base) and a camera/user node."""
    publisher = subprocess.Popen([sys.executable, "-m", "tests.tf_chain"], cwd=ROOT, env=dict(os.environ))
    rclpy.init()
    with grounding_graph("/tf_cell", backend="test-fixed", test_program=f"pick(red block) @ ({PIXEL[0]}, {PIXEL[1]})",
                         tf_timeout_s=1.0, **ANYWHERE,
                         max_clock_skew_s=10.0) as (node, client):  # the skew lets the 5 s-ahead frame through
        tf = node.camera_geometry.resolver.tf
        deadline = time.monotonic() + 30.0
        while not {"wrist_link", "fixed_camera_optical_frame"} <= set(tf.known_frames()):
            assert publisher.poll() is None, "the tf publisher died"
            assert time.monotonic() < deadline, f"tf never arrived; known: {tf.known_frames()}"
            time.sleep(0.05)
        client.node_under_test = node
        yield client
    rclpy.shutdown()
    publisher.terminate()
    publisher.wait(timeout=10)


def ground_on(client: CameraAndUser, frame_id: str, stamp_ns: int) -> ActionPlan:
    image = numpy_to_image(np.full((HEIGHT, WIDTH, 3), 120, np.uint8), "rgb8")
    depth = numpy_to_image(np.full((HEIGHT, WIDTH), DEPTH, np.float32), "32FC1")
    for _ in range(3):
        client.image_pub.publish(stamped(image, stamp_ns, frame_id))
        client.depth_pub.publish(stamped(depth, stamp_ns, frame_id))
        client.info_pub.publish(stamped(camera_info(), stamp_ns, frame_id))
        time.sleep(0.03)
    return client.ground("pick up the red block", not_before_ns=stamp_ns)


def test_the_node_keeps_every_tf_sample(cell):
    """100 Hz /tf for 2 s, no run of samples lost: on the node's own executor it lost runs of 20-880 ms."""
    time.sleep(2.0)
    stamps = cell.node_under_test.camera_geometry.resolver.tf.sample_stamps("wrist_link")
    recent = [s for s in stamps if s >= stamps[-1] - 2_000_000_000]
    gaps_ms = [(b - a) / 1e6 for a, b in itertools.pairwise(recent)]
    assert len(recent) > 150 and max(gaps_ms) < 100.0, (len(recent), max(gaps_ms))


def expected_target(frame_id: str, stamp_ns: int) -> np.ndarray:
    point = back_project(*PIXEL, DEPTH, INTRINSICS)
    return (chain_at(frame_id, stamp_ns) @ np.append(point, 1.0))[:3]


def target(plan: ActionPlan) -> np.ndarray:
    p = plan.steps[0].pose.position
    return np.array([p.x, p.y, p.z])


def test_static_chain_through_intermediate_frames(cell):
    stamp = cell.now_ns()
    plan = ground_on(cell, "fixed_camera_optical_frame", stamp)
    assert plan.status == ActionPlan.OK, plan.message
    error = np.linalg.norm(target(plan) - expected_target("fixed_camera_optical_frame", stamp))
    assert error < 1e-3, f"{error * 1000:.3f} mm from the chain's answer"


def test_moving_wrist_camera_is_looked_up_at_the_image_stamp(cell):
    targets = []
    for delay_s in (0.0, 0.5, 1.1):  # three points of the joint's swing
        time.sleep(delay_s)
        stamp = cell.now_ns() - 30_000_000  # an image 30 ms old, between two /tf samples
        plan = ground_on(cell, "wrist_camera_optical_frame", stamp)
        assert plan.status == ActionPlan.OK, plan.message
        error = np.linalg.norm(target(plan) - expected_target("wrist_camera_optical_frame", stamp))
        assert error < 1e-3, f"{error * 1000:.3f} mm from the chain's answer"
        targets.append(target(plan))
    assert max(np.linalg.norm(t - targets[0]) for t in targets[1:]) > 0.01  # the camera did move


def test_an_unknown_camera_frame_is_an_error_naming_the_known_frames(cell):
    plan = ground_on(cell, "camera_color_optical_frame", cell.now_ns())
    assert plan.status == ActionPlan.ERROR
    assert "no transform base_link ← camera_color_optical_frame" in plan.message
    assert "known frames:" in plan.message and "wrist_camera_optical_frame" in plan.message


def test_a_stamp_the_tf_data_never_reaches_is_an_error_after_the_bounded_wait(cell):
    stamp = cell.now_ns() + 5_000_000_000  # 5 s ahead of every /tf sample; tf_timeout_s is 1 s
    start = time.monotonic()
    plan = ground_on(cell, "wrist_camera_optical_frame", stamp)
    assert plan.status == ActionPlan.ERROR and "not yet" in plan.message, plan.message
    assert time.monotonic() - start < 10.0
