"""sim_bridge through a real rclpy graph: camera topics, camera_pose, execute_plan, reset/check."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import rclpy
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType
from vlm_ros.ros.image_conversion import to_depth_m, to_rgb8
from vlm_ros.ros.msg_conversion import plan_to_msg, transform_msg_to_matrix
from vlm_ros.ros.spin import BackgroundSpin
from vlm_ros.sim.bridge_node import LATCHED, SimBridgeNode
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros_interfaces.action import ExecutePlan
from vlm_ros_interfaces.srv import CheckTask, ResetScene

pytestmark = [pytest.mark.ros, pytest.mark.sim]
_names = itertools.count()


class Probe(Node):
    """Records the bridge's topics and calls its services and action."""

    def __init__(self, namespace: str):
        super().__init__("sim_probe", namespace=namespace)
        self.msgs: dict[str, list] = {"image": [], "depth": [], "camera_info": [], "camera_pose": []}
        for topic, kind in (("image", Image), ("depth", Image), ("camera_info", CameraInfo)):
            self.create_subscription(kind, topic, self.msgs[topic].append, qos_profile_sensor_data)
        from geometry_msgs.msg import TransformStamped

        self.create_subscription(TransformStamped, "camera_pose", self.msgs["camera_pose"].append, LATCHED)
        self.reset_client = self.create_client(ResetScene, "reset_scene")
        self.check_client = self.create_client(CheckTask, "check_task")
        self.programs: list[str] = []
        self.create_subscription(String, "oracle/program", lambda m: self.programs.append(m.data), LATCHED)
        self.action = ActionClient(self, ExecutePlan, "execute_plan")

    def wait(self, future, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while not future.done():
            assert time.monotonic() < deadline, "no answer"
            time.sleep(0.01)
        return future.result()

    def reset(self, **fields) -> ResetScene.Response:
        assert self.reset_client.wait_for_service(timeout_sec=10.0)
        return self.wait(self.reset_client.call_async(ResetScene.Request(seed=-1, **fields) if "seed" not in fields
                                                      else ResetScene.Request(**fields)))

    def check(self) -> CheckTask.Response:
        assert self.check_client.wait_for_service(timeout_sec=10.0)
        return self.wait(self.check_client.call_async(CheckTask.Request()))

    def execute(self, plan: Plan):
        assert self.action.wait_for_server(timeout_sec=10.0)
        feedback: list = []
        handle = self.wait(self.action.send_goal_async(ExecutePlan.Goal(plan=plan_to_msg(plan)),
                                                       feedback_callback=lambda f: feedback.append(f.feedback)))
        return self.wait(handle.get_result_async()).result, feedback


@pytest.fixture(scope="module")
def graph():
    rclpy.init()
    namespace = f"/sim{next(_names)}"
    overrides = {"width": 160, "height": 120, "rate_hz": 20.0, "seed": 7, "publish_clock": False}
    params = [Parameter(k, value=v) for k, v in overrides.items()]
    bridge = SimBridgeNode(namespace=namespace, parameter_overrides=params)
    probe = Probe(namespace)
    spinner = BackgroundSpin(bridge, probe, threads=4)
    yield bridge, probe
    spinner.stop()
    probe.destroy_node()
    bridge.destroy_node()
    rclpy.shutdown()


def test_camera_topics_share_a_stamp_and_match_the_sim(graph):
    bridge, probe = graph
    deadline = time.monotonic() + 15.0
    while min(len(v) for v in probe.msgs.values()) < 1 or len(probe.msgs["image"]) < 3:
        assert time.monotonic() < deadline, {k: len(v) for k, v in probe.msgs.items()}
        time.sleep(0.05)
    image = probe.msgs["image"][-2]
    matching = [d for d in probe.msgs["depth"] if d.header.stamp == image.header.stamp]
    infos = [i for i in probe.msgs["camera_info"] if i.header.stamp == image.header.stamp]
    assert matching and infos, "depth and camera_info must carry the colour image's stamp"
    depth, info = matching[0], infos[0]
    assert image.header.stamp != probe.msgs["image"][0].header.stamp  # sim time advances while idle
    assert image.encoding == "rgb8" and depth.encoding == "32FC1"
    assert image.header.frame_id == "camera_color_optical_frame"
    assert to_rgb8(image).shape == (120, 160, 3)
    assert 0.3 < float(np.nanmedian(to_depth_m(depth))) < 2.0
    k = bridge.sim.intrinsics
    assert list(info.k) == pytest.approx([k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1])
    assert list(info.d) == [0.0] * 5
    pose = probe.msgs["camera_pose"][0]
    assert pose.header.frame_id == "base_link" and pose.child_frame_id == "camera_color_optical_frame"
    assert np.allclose(transform_msg_to_matrix(pose), bridge.sim.camera_to_base, atol=1e-6)


def test_reset_execute_and_check(graph):
    bridge, probe = graph
    info = probe.reset()
    assert info.success and info.task == "put-block-in-bowl" and info.seed == 8 and info.instruction  # start used 7
    assert info.stamp.sec > 0 or info.stamp.nanosec > 0
    assert probe.check().success is False  # nothing done yet
    with bridge.sim_lock:
        _, plan = oracle_plan(bridge.sim, bridge.episode)
    result, feedback = probe.execute(plan)
    assert result.success, result.message
    assert [r.success for r in result.results] == [True, True]
    assert [(f.step, f.total_steps) for f in feedback] == [(0, 2), (1, 2)]
    check = probe.check()
    assert check.success, check.reason
    deadline = time.monotonic() + 5.0
    while not any(p.startswith("pick(") for p in probe.programs):
        assert time.monotonic() < deadline, "the oracle program was never published"
        time.sleep(0.05)


def test_reset_with_task_seed_and_template(graph):
    _, probe = graph
    first = probe.reset(task="stack-blocks", seed=42, instruction_template="stack the {pick} on the {place}")
    again = probe.reset(task="stack-blocks", seed=42, instruction_template="stack the {pick} on the {place}")
    assert first.success and first.instruction.startswith("stack the ") and first.instruction == again.instruction
    assert first.objects == again.objects
    unknown = probe.reset(task="juggle", seed=1)
    assert not unknown.success and "unknown task" in unknown.message


def test_execute_reports_failure_reasons(graph):
    _, probe = graph
    probe.reset()
    far = Plan("x", PlanStatus.OK, "", [Primitive(PrimitiveType.MOVE_TO, "far", position=np.array([1.0, 0.0, 0.0]))])
    result, _ = probe.execute(far)
    assert not result.success and [(r.index, r.success, r.message) for r in result.results] == [
        (0, False, "outside workspace")]
    refused = Plan("put the purple block in the bowl", PlanStatus.REFUSED, "I can't see a purple block.")
    result, _ = probe.execute(refused)
    assert not result.success and "REFUSED" in result.message
