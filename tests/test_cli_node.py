"""`vlm-ros node --ros-args ...` as the README writes it: the node starts, takes the parameters, answers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import rclpy
from rclpy.node import Node

from vlm_ros.cli import build_parser
from vlm_ros_interfaces.msg import ActionPlan
from vlm_ros_interfaces.srv import GroundInstruction

pytestmark = pytest.mark.ros


@pytest.mark.parametrize("argv, expected", [
    (["node"], None),
    (["node", "--ros-args", "-p", "backend:=oracle"], ["-p", "backend:=oracle"]),
    (["node", "--ros-args", "--params-file", "config/grounding.yaml", "-r", "__ns:=/robot"],
     ["--params-file", "config/grounding.yaml", "-r", "__ns:=/robot"]),
])
def test_ros_arguments_parse(argv, expected):
    assert build_parser().parse_args(argv).ros_args == expected


def test_node_starts_with_ros_args_and_is_on_the_graph():
    namespace = "/cli_node_test"
    process = subprocess.Popen(
        [sys.executable, "-m", "vlm_ros.cli", "node", "--ros-args", "-r", f"__ns:={namespace}",
         "--params-file", "config/grounding.yaml", "-p", "backend:=test-fixed",
         "-p", "test_program:=pick(red block) @ (1, 1)", "-p", "frame_wait_s:=0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rclpy.init()
    probe = Node("cli_probe")
    try:
        client = probe.create_client(GroundInstruction, f"{namespace}/ground")
        deadline = time.monotonic() + 60.0
        while ("grounding_node", namespace) not in probe.get_node_names_and_namespaces():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "grounding_node never appeared on the graph"
            rclpy.spin_once(probe, timeout_sec=0.1)
        assert client.wait_for_service(timeout_sec=30.0)
        future = client.call_async(GroundInstruction.Request(instruction="pick the red block"))
        rclpy.spin_until_future_complete(probe, future, timeout_sec=30.0)
        plan = future.result().plan
        assert plan.status == ActionPlan.ERROR and "no camera frame" in plan.message.lower(), plan.message
        assert plan.model_id == "test-fixed-program"  # -p backend:=test-fixed took effect over the params file
    finally:
        probe.destroy_node()
        rclpy.shutdown()
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert "unrecognized arguments" not in output
