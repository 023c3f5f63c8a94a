"""grounding_node as a managed node, driven through the real lifecycle_msgs services.

Each transition is observed from outside on the graph: publishers appear on configure,
subscriptions and the ground service on activate, and vanish again on deactivate; cleanup frees
the model (the torch module is garbage once the node lets go of it).
"""

from __future__ import annotations

import gc
import time
import weakref

import numpy as np
import pytest
import rclpy
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.parameter import Parameter

from tests.ros_graph import HEIGHT, WIDTH, camera_info, grounding_graph
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = pytest.mark.ros
NS = "/managed"


@pytest.fixture(scope="module")
def managed():
    """A grounding node with autostart off and the shipped model on torch, plus a user node."""
    rclpy.init()
    with grounding_graph(NS, autostart=False, backend="torch") as nodes:
        yield nodes
    rclpy.shutdown()


def call(user, srv_type, name: str, request, timeout: float = 60.0):
    client = user.create_client(srv_type, f"grounding_node/{name}")
    assert client.wait_for_service(timeout_sec=10.0), name
    future = client.call_async(request)
    deadline = time.monotonic() + timeout
    while not future.done():
        assert time.monotonic() < deadline, f"{name} did not answer"
        time.sleep(0.01)
    user.destroy_client(client)
    return future.result()


def state(user) -> str:
    return call(user, GetState, "get_state", GetState.Request()).current_state.label


def transition(user, transition_id: int) -> bool:
    return call(user, ChangeState, "change_state", ChangeState.Request(transition=Transition(id=transition_id))).success


def eventually(condition, what: str, timeout: float = 30.0) -> None:  # generous: a loaded 2-core machine
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def graph_view(user) -> dict[str, int]:
    return {"image subscribers": user.count_subscribers(f"{NS}/image"),
            "plan publishers": user.count_publishers(f"{NS}/plan"),
            "ground service": int(user.ground_client.service_is_ready())}  # a server, not just our client


def test_configure_activate_deactivate_cleanup_are_each_observable(managed):
    node, user = managed
    assert state(user) == "unconfigured"
    assert graph_view(user) == {"image subscribers": 0, "plan publishers": 0, "ground service": 0}
    assert node.pipeline is None

    assert transition(user, Transition.TRANSITION_CONFIGURE)
    assert state(user) == "inactive" and node.pipeline is not None
    eventually(lambda: graph_view(user)["plan publishers"] == 1, "configure creates the publishers")
    assert graph_view(user)["image subscribers"] == 0 and graph_view(user)["ground service"] == 0
    model = weakref.ref(node.pipeline.grounder.model)

    assert transition(user, Transition.TRANSITION_ACTIVATE)
    assert state(user) == "active"
    eventually(lambda: graph_view(user) == {"image subscribers": 1, "plan publishers": 1, "ground service": 1},
               f"activate opens subscriptions and services: {graph_view(user)}")
    user.publish_frame(np.full((HEIGHT, WIDTH, 3), 150, np.uint8), np.full((HEIGHT, WIDTH), 0.8, np.float32),
                       camera_info())
    plan = user.ground("put the red block in the green bowl", timeout=120.0)  # the real model answers
    assert plan.status in (ActionPlan.OK, ActionPlan.REFUSED), plan.message

    assert transition(user, Transition.TRANSITION_DEACTIVATE)
    assert state(user) == "inactive"
    eventually(lambda: graph_view(user) == {"image subscribers": 0, "plan publishers": 1, "ground service": 0},
               f"deactivate closes them: {graph_view(user)}")

    assert transition(user, Transition.TRANSITION_CLEANUP)
    assert state(user) == "unconfigured" and node.pipeline is None
    eventually(lambda: graph_view(user)["plan publishers"] == 0, "cleanup removes the publishers")
    gc.collect()
    assert model() is None, "the model is still referenced after cleanup"


def test_it_can_be_configured_and_activated_again(managed):
    _node, user = managed
    if state(user) != "unconfigured":
        pytest.skip("needs the previous test's end state")
    assert transition(user, Transition.TRANSITION_CONFIGURE) and transition(user, Transition.TRANSITION_ACTIVATE)
    eventually(lambda: graph_view(user)["ground service"] == 1, "ground service back")
    user.publish_frame(np.full((HEIGHT, WIDTH, 3), 150, np.uint8), np.full((HEIGHT, WIDTH), 0.8, np.float32),
                       camera_info())
    assert user.ground("pick up the blue block", timeout=120.0).status in (ActionPlan.OK, ActionPlan.REFUSED)


def test_a_model_that_does_not_load_leaves_it_unconfigured(managed):
    node, user = managed
    if state(user) == "active":
        assert transition(user, Transition.TRANSITION_DEACTIVATE)
    if state(user) == "inactive":
        assert transition(user, Transition.TRANSITION_CLEANUP)
    node.set_parameters([Parameter("model_path", value="/nonexistent/model")])
    try:
        assert not transition(user, Transition.TRANSITION_CONFIGURE)
        assert state(user) == "unconfigured"
        assert "/nonexistent/model" in node.load_error
    finally:
        node.set_parameters([Parameter("model_path", value="")])
