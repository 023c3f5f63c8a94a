"""A spoken "put the red block in the green bowl" makes the simulated robot do it.

espeak-ng speech → speech_node (pocketsphinx, WAV source) → `instruction` → grounding_node
(shipped model, executing topic instructions) → execute_plan in sim_bridge → the sim's check.
"""

from __future__ import annotations

import time

import pytest
from rclpy.parameter import Parameter

from tests.ros_graph import spin_in_background
from vlm_ros.bench.graph import sim_graph
from vlm_ros.models import DEFAULT_WEIGHTS_PATH
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS
from vlm_ros.speech.audio import write_wav
from vlm_ros.speech.synth import espeak_available, spoken_clip

pytestmark = [
    pytest.mark.ros, pytest.mark.sim,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed; no speech to test with"),
    pytest.mark.skipif(not (DEFAULT_WEIGHTS_PATH / "config.json").exists(), reason="no shipped weights"),
]
COMMAND = "put the red block in the green bowl"


def scene_seed_for(pick: str, place: str) -> int:
    """A put-block-in-bowl seed whose scene asks for exactly this pick and place (layout is size-independent)."""
    sim = TabletopSim(width=64, height=48)
    try:
        for seed in range(50_000, 52_000):
            episode = TASKS["put-block-in-bowl"].sample(sim, seed)
            if (episode.pick, episode.place) == (pick, place):
                return seed
    finally:
        sim.close()
    raise AssertionError(f"no scene with a {pick} and a {place} in 2000 seeds")


def test_spoken_command_is_carried_out_in_the_sim(tmp_path):
    from vlm_ros.ros.speech_node import SpeechNode

    seed = scene_seed_for("red block", "green bowl")
    clip = spoken_clip(COMMAND)
    wav = tmp_path / "command.wav"
    write_wav(wav, clip.samples, clip.sample_rate)
    with sim_graph(backend="torch", seed=seed, execute_topic_instructions=True, echo=True) as client:
        client.reset_scene("put-block-in-bowl", seed)
        time.sleep(1.0)  # the grounding node grounds spoken commands on the latest frame
        speech = SpeechNode(parameter_overrides=[Parameter("source", value="wav"),
                                                 Parameter("wav_path", value=str(wav)),
                                                 Parameter("wav_start_delay_s", value=5.0)])
        spinner = spin_in_background(speech, threads=2)
        try:
            # a volatile topic: the grounding node must have matched before the WAV starts playing
            deadline = time.monotonic() + 5.0
            while speech.count_subscribers("instruction") < 1:
                assert time.monotonic() < deadline, "grounding_node never subscribed to instruction"
                time.sleep(0.05)
            deadline = time.monotonic() + 90.0
            success, reason = client.check_task()
            while not success and time.monotonic() < deadline:
                time.sleep(1.0)
                success, reason = client.check_task()
            assert success, f"the robot did not carry out the spoken command: {reason}"
        finally:
            spinner.stop()
            speech.destroy_node()
