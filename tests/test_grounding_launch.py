"""grounding_node started through launch/grounding.launch.yaml, as users start it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rclpy
import yaml

from tests.ros_graph import HEIGHT, WIDTH, CameraAndUser, camera_info
from tests.test_grounding_node import DOWN
from vlm_ros.geometry.transforms import matrix_to_pose
from vlm_ros.launch_runner import LaunchSession
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = pytest.mark.ros
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    params = yaml.safe_load((ROOT / "config" / "grounding.yaml").read_text())
    params["/**"]["ros__parameters"].update(
        test_program="pick(red block) @ (32, 24)", camera_to_base=matrix_to_pose(DOWN), execute_plan_action="")
    params_file = tmp_path_factory.mktemp("launch") / "params.yaml"
    params_file.write_text(yaml.safe_dump(params))
    args = {"namespace": "launched", "params_file": str(params_file), "backend": "test-fixed",
            "image": "camera/image"}
    with LaunchSession(ROOT / "launch" / "grounding.launch.yaml", args) as session:
        session.wait_for_output(r"ready: model test-fixed-program", timeout=60)
        rclpy.init()
        client = CameraAndUser("/launched")
        client.image_pub = client.create_publisher(type(client.image_pub.msg_type()), "/launched/camera/image",
                                                   client.image_pub.qos_profile)
        yield session, client
        client.close()
        rclpy.shutdown()


def test_launch_file_starts_the_node_with_remaps_and_params(launched):
    session, client = launched
    assert any("image topic /launched/camera/image" in line for line in session.output())
    assert client.ground("pick the red block").status == ActionPlan.ERROR  # nothing published yet
    client.publish_frame(np.full((HEIGHT, WIDTH, 3), 90, np.uint8), np.full((HEIGHT, WIDTH), 0.8, np.float32),
                         camera_info())
    plan = client.ground("pick the red block")
    assert plan.status == ActionPlan.OK, plan.message
    assert plan.steps[0].pose.position.x == pytest.approx(0.5, abs=1e-3)
    assert session.running["grounding_node"]
