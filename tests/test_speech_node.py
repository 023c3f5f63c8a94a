"""speech_node in a real rclpy graph: AudioData messages in, `instruction` and `speech_status` out;
and speech.launch.yaml playing a WAV file, as a user starts it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String
from std_srvs.srv import Trigger

from tests.ros_graph import ensure_rclpy, spin_in_background
from vlm_ros.speech.audio import encode_s16le, write_wav
from vlm_ros.speech.synth import espeak_available, spoken_clip
from vlm_ros_interfaces.msg import AudioData

pytestmark = [pytest.mark.ros,
              pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed; no speech to test with")]
ROOT = Path(__file__).resolve().parents[1]


class Listener(Node):
    """Plays a microphone on `audio` and records what speech_node says."""

    def __init__(self, namespace: str, serve_stop: bool = True):
        super().__init__("speech_test_user", namespace=namespace)
        self.audio_pub = self.create_publisher(AudioData, "audio", 100)
        self.instructions: list[str] = []
        self.statuses: list[dict] = []
        self.create_subscription(String, "instruction", lambda m: self.instructions.append(m.data), 10)
        self.create_subscription(String, "speech_status", lambda m: self.statuses.append(json.loads(m.data)), 10)
        self.prompts: list[str] = []
        self.create_subscription(String, "speech_prompt", lambda m: self.prompts.append(m.data), 10)
        self.stop_calls = 0
        if serve_stop:  # what grounding_node serves: cancel the running execution
            self.create_service(Trigger, "stop", self._on_stop)

    def _on_stop(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.stop_calls += 1
        response.success, response.message = True, "cancelled the running execution"
        return response

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    def play(self, samples: np.ndarray, rate: int, chunk_s: float = 0.1) -> None:
        """S16LE chunks, at twice real time (the node must cope with bursts)."""
        step = int(rate * chunk_s)
        for i in range(0, samples.size, step):
            msg = AudioData(sample_rate=rate, channels=1, encoding="S16LE")
            msg.header.frame_id = "microphone"
            msg.data = encode_s16le(samples[i:i + step])
            self.audio_pub.publish(msg)
            time.sleep(chunk_s / 2)


@pytest.fixture(scope="module")
def graph():
    from vlm_ros.ros.speech_node import SpeechNode

    rclpy.init()
    node = SpeechNode(namespace="/speech_t", parameter_overrides=[Parameter("source", value="topic")])
    executor = spin_in_background(node, threads=2)
    user = Listener("/speech_t")
    user_executor = spin_in_background(user, threads=2)
    assert user.wait_for(lambda: user.audio_pub.get_subscription_count() > 0, 10)
    assert user.wait_for(lambda: node.count_subscribers("instruction") > 0, 10)
    yield node, user
    user_executor.stop()
    executor.stop()
    user.destroy_node()
    node.destroy_node()
    rclpy.shutdown()


def test_spoken_command_on_the_audio_topic_becomes_an_instruction(graph):
    _node, user = graph
    clip = spoken_clip("put the blue cube in the yellow bowl", "en-us", 160)
    user.play(clip.samples, clip.sample_rate)
    assert user.wait_for(lambda: user.instructions, 30), user.statuses
    assert user.instructions == ["put the blue cube in the yellow bowl"]
    status = user.statuses[-1]
    assert status["status"] == "ok" and status["confidence"] >= 0.5
    assert status["program"] == "pick(blue block) ; place(yellow bowl)"
    assert user.wait_for(lambda: user.prompts, 5) and user.prompts[-1] == "OK: put the blue cube in the yellow bowl."


def test_spoken_stop_calls_the_stop_service_and_is_not_an_instruction(graph):
    _node, user = graph
    before = len(user.instructions), len(user.prompts)
    clip = spoken_clip("stop", "en-us", 160)
    user.play(clip.samples, clip.sample_rate)
    assert user.wait_for(lambda: user.stop_calls == 1, 60), user.statuses[-3:]
    assert user.wait_for(lambda: any(s.get("program") == "stop()" and s["status"] == "ok" for s in user.statuses), 10)
    assert user.wait_for(lambda: "Stopping." in user.prompts[before[1]:], 5), user.prompts
    time.sleep(0.3)
    assert len(user.instructions) == before[0]  # stop never goes to the grounder as an instruction


def test_noise_gives_no_instruction(graph):
    """A burst of hiss: the neural VAD does not even open an utterance; nothing may be published."""
    node, user = graph
    before = len(user.instructions), len(user.statuses)
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 1e-3, 3 * 16000).astype(np.float32)
    noise[8000:20000] += rng.normal(0, 0.1, 12000).astype(np.float32)
    user.play(noise, 16000)
    assert user.wait_for(lambda: node._queue.empty() and not node.pipeline.in_speech, 60)
    time.sleep(2.0)  # an utterance still being decoded would report within this
    assert all(s["status"] != "ok" for s in user.statuses[before[1]:]), user.statuses[before[1]:]
    assert len(user.instructions) == before[0]


def test_launch_file_plays_a_wav_into_the_instruction_topic(tmp_path):
    from vlm_ros.launch_runner import LaunchSession

    clip = spoken_clip("pick up the red block and put it in the green bowl", "en-us+klatt4", 160)
    write_wav(tmp_path / "command.wav", clip.samples, clip.sample_rate)
    heard: list[str] = []
    ready = threading.Event()
    with LaunchSession(ROOT / "launch" / "speech.launch.yaml",
                       {"namespace": "launched_speech", "source": "wav", "wav_path": str(tmp_path / "command.wav"),
                        "instruction": "/robot/instruction"}) as session:
        ensure_rclpy()  # shared with the module's graph when it runs
        user = Node("speech_launch_user")
        user.create_subscription(String, "/robot/instruction", lambda m: (heard.append(m.data), ready.set()), 10)
        executor = spin_in_background(user, threads=2)
        try:
            session.wait_for_output(r"ready: backend pocketsphinx", timeout=60)
            assert ready.wait(30), session.output()
            session.wait_for_output(r"end of WAV file", timeout=30)
        finally:
            executor.stop()
            user.destroy_node()
    assert heard == ["pick up the red block and put it in the green bowl"]


def test_confirm_asks_on_speech_prompt_and_publishes_after_yes(graph):
    """confirm: true: the command is asked about on speech_prompt; only the yes publishes it."""
    from vlm_ros.ros.speech_node import SpeechNode

    node = SpeechNode(namespace="/speech_c", parameter_overrides=[
        Parameter("source", value="topic"), Parameter("confirm", value=True)])
    executor = spin_in_background(node, threads=2)
    user = Listener("/speech_c", serve_stop=False)
    user_executor = spin_in_background(user, threads=2)
    try:
        assert user.wait_for(lambda: user.audio_pub.get_subscription_count() > 0, 10)
        assert user.wait_for(lambda: node.count_subscribers("speech_prompt") > 0, 10)
        clip = spoken_clip("put the blue cube in the yellow bowl", "en-us", 160)
        user.play(clip.samples, clip.sample_rate)
        question = "Did you say: put the blue cube in the yellow bowl? Say yes or no."
        assert user.wait_for(lambda: question in user.prompts, 30), (user.prompts, user.statuses)
        assert user.statuses[-1]["status"] == "confirm" and user.instructions == []
        yes = spoken_clip("yes", "en-us", 160)
        user.play(yes.samples, yes.sample_rate)
        assert user.wait_for(lambda: user.instructions, 30), user.statuses
        assert user.instructions == ["put the blue cube in the yellow bowl"]
        assert user.statuses[-1]["status"] == "ok" and "confirmed" in user.statuses[-1]["reason"]
    finally:
        user_executor.stop()
        executor.stop()
        user.destroy_node()
        node.destroy_node()
