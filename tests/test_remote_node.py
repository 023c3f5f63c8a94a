"""grounding_node with backend remote through a real rclpy graph and a real misbehaving HTTP server:
failures are ERROR plans (or fallback OK plans that say so), the node lives on, and the API key
is in no plan, log-facing message or /diagnostics value."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray

from tests.chat_server import ChatServer
from tests.ros_graph import HEIGHT, WIDTH, camera_info, grounding_graph
from vlm_ros.geometry.transforms import matrix_to_pose
from vlm_ros.qa.model_outputs import downward_camera
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = [pytest.mark.ros, pytest.mark.usefixtures("ros_context")]

DOWN = downward_camera()  # 0.8 m above (0.5, 0, 0), looking straight down
PROGRAM = "pick(red block) @ (32, 24) ; place(left side) @ (10, 10)"
SECRET = "sk-node-test-93be1f"
_names = itertools.count()


@pytest.fixture(scope="module")
def server():
    s = ChatServer(PROGRAM, slow_s=2.0)
    yield s
    s.close()


@pytest.fixture
def graph(request, server, monkeypatch):
    monkeypatch.setenv("VLM_ROS_NODE_TEST_KEY", SECRET)
    overrides = {"backend": "remote", "remote_url": server.url, "remote_model": "test-model",
                 "remote_api_key_env": "VLM_ROS_NODE_TEST_KEY", "remote_timeout_s": 0.5, "remote_retries": 1,
                 "camera_to_base": matrix_to_pose(DOWN),
                 "diagnostics_period_s": 0.2, "max_frame_age_s": 0.0,  # staleness is not under test here
                 **getattr(request, "param", {})}
    with grounding_graph(f"/r{next(_names)}", **overrides) as (node, client):
        diagnostics: list[DiagnosticArray] = []
        client.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        client.publish_frame(np.full((HEIGHT, WIDTH, 3), 120, np.uint8), np.full((HEIGHT, WIDTH), 0.8, np.float32),
                             camera_info())
        yield client, node, diagnostics


def latest_values(diagnostics: list[DiagnosticArray], node_name: str) -> dict[str, str]:
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        for array in reversed(list(diagnostics)):
            for status in array.status:
                if node_name in status.name:
                    return {kv.key: kv.value for kv in status.values} | {"_message": status.message}
        time.sleep(0.05)
    raise AssertionError("no diagnostics from the node")


def test_failures_are_error_plans_and_node_lives_on(graph, server):
    client, node, diagnostics = graph
    for mode, words in [("http-503", "http 503"), ("slow", "did not answer"), ("not-json", "not json"),
                        ("wrong-format", "could not be understood")]:
        server.mode = mode
        t0 = time.monotonic()
        plan = client.ground("put the red block on the left side")
        assert plan.status == ActionPlan.ERROR and words in plan.message.lower(), (mode, plan.message)
        assert len(plan.steps) == 0
        assert time.monotonic() - t0 < 0.5 * 2 + 1.5, mode
        assert SECRET not in plan.message
    server.mode = "ok"
    plan = client.ground("put the red block on the left side")
    assert plan.status == ActionPlan.OK, plan.message  # the node is alive and grounds again
    assert server.headers[-1]["Authorization"] == f"Bearer {SECRET}"
    time.sleep(0.5)
    values = latest_values(diagnostics, node.get_name())
    assert values["remote_failures"] == "4" and values["remote_requests"] == "5"
    assert SECRET not in repr(values)
    assert SECRET not in repr([(p.name, p.value) for p in node._parameters.values()])


@pytest.mark.parametrize("graph", [{"fallback_backend": "test-fixed", "test_program": "pick(red block) @ (20, 20)"}],
                         indirect=True)
def test_fallback_backend_grounds_when_the_server_fails(graph, server):
    client, node, diagnostics = graph
    server.mode = "http-503"
    plan = client.ground("pick up the red block")
    assert plan.status == ActionPlan.OK, plan.message
    assert [s.type_name for s in plan.steps] == ["pick"]
    assert "fallback backend test-fixed" in plan.message and "http 503" in plan.message.lower()
    time.sleep(0.5)
    values = latest_values(diagnostics, node.get_name())
    assert values["fallbacks"] == "1" and "503" in values["last_remote_error"]
    server.mode = "ok"


def test_concurrent_requests_while_the_server_hangs_end_in_time(graph, server):
    """Three callers at once against a server that never answers in time: each gets its ERROR."""
    client, _node, _ = graph
    server.mode = "slow"
    plans: list[ActionPlan] = []
    threads = [threading.Thread(target=lambda: plans.append(client.ground("pick up the red block", timeout=20)))
               for _ in range(3)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the node grounds one request at a time: 3 x (2 attempts x 0.5 s) + slack
    assert time.monotonic() - t0 < 3 * 1.0 + 3.0
    assert [p.status for p in plans] == [ActionPlan.ERROR] * 3
    server.mode = "ok"
