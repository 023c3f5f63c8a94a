"""Spoken commands from four synthesis engines, in clean and noisy rooms, recognised by real pocketsphinx.

A short version of `python -m vlm_ros.speech.evaluate` (the README table comes from the full one):
one voice per engine, every 4th command, clean / white noise at 20 dB SNR / reverb, and the
non-commands. Engines that are not installed are skipped (their reason is printed).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from vlm_ros.speech.audio import AudioChunk, write_wav
from vlm_ros.speech.degrade import Condition
from vlm_ros.speech.evaluate import hear, make_pipeline, run
from vlm_ros.speech.pipeline import OK, SpeechPipeline
from vlm_ros.speech.synth import espeak_available, spoken_clip
from vlm_ros.speech.testset import COMMANDS, NON_COMMANDS, command_subset
from vlm_ros.speech.voices import ENGINES, missing_engines

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (apt-get install "
                                "espeak-ng); speech tests need synthesized speech")
SHORT_VOICES = ("espeak:en-us", "flite:slt", "festival:kal_diphone", "mbrola:us2")


def short_voices() -> list[str]:
    missing = missing_engines(list(ENGINES))
    if missing:
        print(f"engines not installed, skipped: {missing} (tools/setup_env.sh installs them)")
    return [v for v in SHORT_VOICES if v.split(":")[0] not in missing]


@pytest.fixture(scope="module")
def pipeline() -> SpeechPipeline:
    return make_pipeline()


def test_command_accuracy_over_engines_in_clean_noisy_and_reverberant_rooms(pipeline):
    voices = short_voices()
    conditions = [Condition("clean"), Condition("white", 20.0), Condition("reverb")]
    report = run(pipeline, command_subset(4), voices, conditions, command=True)
    misses = "\n".join(f"  {t.voice} {t.condition}: {t.said!r} -> {t.heard.text!r} ({t.heard.status})"
                       for t in report.errors())
    summary = f"{report.table()}\n{len(report.trials)} clips in {report.seconds:.0f} s"
    print(summary + "\n" + misses)
    # measured (README, partial run): 84 % clean, 92 % white 20 dB, 57-71 % reverb; the targets
    # (97 / 95 / 95 %) are not met yet, so these bars only catch regressions
    assert report.accuracy() >= 0.70, summary + "\n" + misses
    assert all(report.accuracy(condition=c.name) >= 0.50 for c in conditions), summary


def test_non_commands_are_not_published(pipeline):
    report = run(pipeline, NON_COMMANDS[::2], short_voices()[:2], [Condition("clean")], command=False)
    published = [(t.voice, t.said, t.heard.text) for t in report.errors()]
    # measured (README): 10 of 83 clean non-commands published, most "the red block is in the green bowl";
    # the issue's <= 1 % is not met, so this bar only catches regressions
    assert len(published) <= 5, published


def test_wake_phrase_rejects_speech_not_addressed_to_the_robot():
    robot = make_pipeline(wake_phrase="robot")
    voices = short_voices()[:2]
    heard = run(robot, COMMANDS[::6], voices, [Condition("clean")], command=True, prefix="robot")
    assert heard.accuracy() >= 0.85, heard.table()
    ignored = run(robot, NON_COMMANDS[::3], voices, [Condition("clean")], command=False)
    # measured (README): 4 of 79 clean non-commands published with the wake phrase; bar catches regressions
    assert len(ignored.errors()) <= 2, [(t.said, t.heard.text) for t in ignored.errors()]


def test_confirmation_turn_accuracy_and_rejection():
    """confirm: true, the workshop setting: the speaker answers the question (yes when it is right, no
    when not); a non-command's speaker says nothing, no, goes on talking, or gives a short non-answer."""
    confirming = make_pipeline(confirm=True)
    voices = short_voices()
    conditions = [Condition("clean"), Condition("white", 20.0)]
    heard = run(confirming, command_subset(4), voices, conditions, command=True)
    ignored = run(confirming, NON_COMMANDS[::2], voices[:2], conditions, command=False)
    summary = f"{heard.table()}\n{len(heard.trials) + len(ignored.trials)} clips in " \
              f"{heard.seconds + ignored.seconds:.0f} s"
    print(summary)
    # measured (README, full run, 12 voices): clean 95.4 %, white 20 dB 91.4 %, 2 of 2,592 non-commands published
    assert heard.accuracy(condition="clean") >= 0.90, summary
    assert heard.accuracy() >= 0.85, summary
    assert not ignored.errors(), [(t.said, t.reply, t.heard.text, t.heard.reason) for t in ignored.errors()]


@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_noise_and_silence_are_not_understood(vad):
    pipeline = make_pipeline(vad=vad)
    rng = np.random.default_rng(3)
    rate = 16000
    silence = AudioChunk(np.zeros(3 * rate, np.float32), rate)
    assert hear(pipeline, silence) == []  # nothing to recognise: no instruction, no utterance
    noise = rng.normal(0, 1e-3, 4 * rate).astype(np.float32)
    noise[rate:int(1.8 * rate)] += rng.normal(0, 0.1, int(0.8 * rate)).astype(np.float32)  # a burst of hiss
    t = np.arange(int(0.7 * rate)) / rate
    noise[int(2.5 * rate):int(3.2 * rate)] += 0.2 * np.sin(2 * np.pi * 220 * t) * np.sign(np.sin(6 * np.pi * t))
    results = hear(pipeline, AudioChunk(noise, rate))
    if vad == "energy":  # the energy detector opens utterances on loud noise; the neural VAD need not
        assert results, "the bursts should be detected as sound"
    assert all(r.status != OK and r.instruction is None for r in results), [r.to_dict() for r in results]


def test_two_commands_in_one_stream_in_chunks(pipeline):
    a, b = spoken_clip("pick up the blue cube", seed=1), spoken_clip("go home", "en-us+f2", seed=2)
    stream = np.concatenate([a.samples, b.samples])
    results = [r for i in range(0, stream.size, 2205)
               for r in pipeline.feed(AudioChunk(stream[i:i + 2205], a.sample_rate))] + pipeline.flush()
    assert [r.program for r in results if r.status == OK] == ["pick(blue block)", "home()"]
    assert results[0].end_s < results[1].start_s


def test_webrtc_vad_endpointing():
    results = hear(make_pipeline(vad="webrtc"), spoken_clip("put the red block in the green bowl"))
    assert [(r.status, r.program) for r in results] == [(OK, "pick(red block) ; place(green bowl)")]


def listen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlm_ros.cli", "listen", *args], capture_output=True,
                          text=True, timeout=120)


def test_listen_cli_prints_the_instruction(tmp_path):
    clip = spoken_clip("put the red block in the green bowl", "en-us+klatt4", 150)
    write_wav(tmp_path / "command.wav", clip.samples, clip.sample_rate)
    plain = listen("--wav", str(tmp_path / "command.wav"))
    assert plain.returncode == 0 and plain.stdout == "put the red block in the green bowl\n", plain.stderr
    out = listen("--wav", str(tmp_path / "command.wav"), "--json")
    heard = json.loads(out.stdout)
    assert heard["text"] == "put the red block in the green bowl" and 0.5 <= heard["confidence"] <= 1.0
    assert heard["status"] == "ok" and heard["program"] == "pick(red block) ; place(green bowl)"


def test_listen_cli_reports_silence_and_bad_files(tmp_path):
    write_wav(tmp_path / "silence.wav", np.zeros(32000, np.float32), 16000)
    out = listen("--wav", str(tmp_path / "silence.wav"), "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout) == {**json.loads(out.stdout), "text": "", "confidence": 0.0,
                                      "status": "not_understood", "reason": "no speech detected"}
    missing = listen("--wav", str(tmp_path / "missing.wav"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
