"""Saying "stop" cancels the running execution: speech_node → grounding_node's `stop` service → the
executor's goal is cancelled. Real rclpy graph: grounding_node (fixed test program), an executor that
works until cancelled, speech_node hearing synthesized speech on its `audio` topic."""

from __future__ import annotations

import time

import pytest
from action_msgs.msg import GoalStatus
from rclpy.parameter import Parameter

from tests.test_node_cancel import SilentExecutor, User, grounding_node, spin, wait
from tests.test_speech_node import Listener
from vlm_ros.speech.synth import espeak_available, spoken_clip

pytestmark = [pytest.mark.ros, pytest.mark.usefixtures("ros_context"),
              pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed; no speech to test with")]


@pytest.fixture
def spoken_graph():
    from tests.ros_graph import CameraAndUser, camera_info
    from tests.test_grounding_node import DOWN, depth, rgb
    from vlm_ros.geometry.transforms import matrix_to_pose
    from vlm_ros.ros.speech_node import SpeechNode

    namespace = "/spoken_stop"
    node = grounding_node(namespace, camera_to_base=matrix_to_pose(DOWN), execute_timeout_s=120.0)
    executor_node, user = SilentExecutor(namespace), User(namespace)
    speech = SpeechNode(namespace=namespace, parameter_overrides=[Parameter("source", value="topic")])
    talker = Listener(namespace, serve_stop=False)  # the microphone; grounding_node serves `stop` here
    spinner = spin(node, executor_node, user, speech, talker)
    camera = CameraAndUser(namespace)
    camera.publish_frame(rgb(), depth(), camera_info())
    yield executor_node, user, speech, talker
    camera.close()
    spinner.stop()
    for n in (talker, speech, user, executor_node, node):
        n.destroy_node()


def test_saying_stop_cancels_the_running_execution(spoken_graph):
    executor_node, user, speech, talker = spoken_graph
    assert talker.wait_for(lambda: talker.audio_pub.get_subscription_count() > 0, 20)
    assert talker.wait_for(lambda: speech._stop_client.service_is_ready(), 20)
    handle = user.send()
    user.wait_for_stage("executing")
    clip = spoken_clip("stop", "en-us", 160)
    talker.play(clip.samples, clip.sample_rate)
    response = wait(handle.get_result_async(), timeout=90.0)
    assert executor_node.cancelled_at, f"the executor's goal was never cancelled; speech said {talker.statuses}"
    assert response.status == GoalStatus.STATUS_ABORTED
    assert "stop service" in response.result.message, response.result.message
    time.sleep(0.1)
