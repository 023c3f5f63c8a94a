"""Spoken commands synthesized with espeak-ng at test time, recognised by real pocketsphinx.

Command-level accuracy is measured on vlm_ros.speech.evaluate's 36 commands × 3 voices ×
2 speeds (reproduce with `python -m vlm_ros.speech.evaluate`); a recognition counts when it
is published (status ok) and means the same command as the text spoken.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from vlm_ros.speech.asr import make_recognizer
from vlm_ros.speech.audio import AudioChunk, write_wav
from vlm_ros.speech.config import DecisionConfig, EndpointConfig, RecognizerConfig
from vlm_ros.speech.evaluate import COMMANDS, SPEEDS, VOICES, evaluate
from vlm_ros.speech.grammar import CommandGrammar
from vlm_ros.speech.pipeline import OK, SpeechPipeline
from vlm_ros.speech.synth import espeak_available, spoken_clip

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (apt-get install "
                                "espeak-ng); speech tests need synthesized speech")

OUT_OF_GRAMMAR = (
    "what time is it", "hello robot", "bring me a cup of coffee", "close the door", "open the window",
    "play some music", "how are you today", "tell me a joke", "set an alarm for seven", "good morning",
    "put the banana in the basket", "drive forward two meters", "turn left", "never mind",
)


def make_pipeline(**endpoint: object) -> SpeechPipeline:
    grammar = CommandGrammar.load()
    return SpeechPipeline(make_recognizer(RecognizerConfig(), grammar), grammar, DecisionConfig(),
                          EndpointConfig(**endpoint))


@pytest.fixture(scope="module")
def pipeline() -> SpeechPipeline:
    return make_pipeline()


def hear(pipeline: SpeechPipeline, clip: AudioChunk):
    return pipeline.feed(clip) + pipeline.flush()


def test_command_accuracy_over_voices_and_speeds(pipeline):
    assert len(COMMANDS) >= 30 and len(VOICES) >= 3 and len(SPEEDS) >= 2
    report = evaluate(pipeline)
    misses = "\n".join(f"  {t.voice} {t.speed}: {t.said!r} -> {t.heard.text!r} ({t.heard.status})"
                       for t in report.errors())
    summary = (f"command accuracy {report.accuracy:.1%} on {len(report.trials)} utterances "
               f"({len(COMMANDS)} commands × {len(VOICES)} voices × {len(SPEEDS)} speeds) in {report.seconds:.0f} s; "
               f"by voice {report.by('voice')}")
    print(summary + "\n" + misses)
    assert report.accuracy >= 0.90, summary + "\n" + misses
    assert all(acc >= 0.80 for acc in report.by("voice").values()), summary


def test_out_of_grammar_speech_rarely_becomes_an_instruction(pipeline):
    published = []
    for seed, text in enumerate(OUT_OF_GRAMMAR):
        published += [(text, r.text) for r in hear(pipeline, spoken_clip(text, "en-us", 160, seed=seed))
                      if r.status == OK]
    assert len(published) <= len(OUT_OF_GRAMMAR) // 7, published  # measured: 0-1 of 14


def test_noise_and_silence_are_not_understood(pipeline):
    rng = np.random.default_rng(3)
    rate = 16000
    silence = AudioChunk(np.zeros(3 * rate, np.float32), rate)
    assert hear(pipeline, silence) == []  # nothing to recognise: no instruction, no utterance
    noise = rng.normal(0, 1e-3, 4 * rate).astype(np.float32)
    noise[rate:int(1.8 * rate)] += rng.normal(0, 0.1, int(0.8 * rate)).astype(np.float32)  # a burst of hiss
    t = np.arange(int(0.7 * rate)) / rate
    noise[int(2.5 * rate):int(3.2 * rate)] += 0.2 * np.sin(2 * np.pi * 220 * t) * np.sign(np.sin(6 * np.pi * t))
    results = hear(pipeline, AudioChunk(noise, rate))
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
