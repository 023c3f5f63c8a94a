"""Speech core without synthesized speech: audio plumbing, endpointing, grammar, commands, decisions."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.grounding.program import parse_step
from vlm_ros.speech.audio import AudioFormatError, decode_pcm, encode_s16le, read_wav, resample, write_wav
from vlm_ros.speech.commands import normalize, parse_command, same_command
from vlm_ros.speech.config import DecisionConfig, EndpointConfig, from_flat
from vlm_ros.speech.endpoint import Endpointer
from vlm_ros.speech.grammar import SHIPPED_GRAMMAR, CommandGrammar, GrammarError, generated_jsgf
from vlm_ros.speech.pipeline import LOW_CONFIDENCE, NOT_UNDERSTOOD, OK, decide

RATE = 16000


@pytest.fixture(scope="module")
def grammar() -> CommandGrammar:
    return CommandGrammar.load()


def tone_bursts(bursts: list[tuple[float, float]], total_s: float, rate: int = RATE) -> np.ndarray:
    """Quiet noise with 300 Hz tones at the (start, end) seconds given: a stand-in for speech."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1e-3, int(total_s * rate)).astype(np.float32)
    for t0, t1 in bursts:
        n = np.arange(int(t0 * rate), int(t1 * rate))
        x[n] += 0.3 * np.sin(2 * np.pi * 300 * n / rate)
    return x


def test_pcm_round_trip_and_downmix():
    x = np.array([0.0, 0.5, -0.5, 0.25], np.float32)
    assert np.allclose(decode_pcm(encode_s16le(x), "S16LE"), x, atol=1e-4)
    assert np.allclose(decode_pcm(x.astype("<f4").tobytes(), "f32le"), x)
    stereo = np.stack([x, -x], axis=1).astype("<f4").tobytes()
    assert np.allclose(decode_pcm(stereo, "F32LE", channels=2), 0.0)
    with pytest.raises(AudioFormatError, match="not supported"):
        decode_pcm(b"\0\0", "MP3")
    with pytest.raises(AudioFormatError, match="whole number"):
        decode_pcm(b"\0\0\0", "S16LE")


def test_resample_keeps_a_tone_and_the_duration():
    t = np.arange(22050) / 22050
    y = resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), 22050, RATE)
    assert y.size == RATE
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second


def test_wav_round_trip(tmp_path):
    x = (0.5 * np.sin(np.arange(8000) / 10)).astype(np.float32)
    write_wav(tmp_path / "a.wav", x, 8000)
    back = read_wav(tmp_path / "a.wav")
    assert back.sample_rate == 8000 and np.allclose(back.samples, x, atol=1e-4)
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(AudioFormatError, match="not an integer-PCM WAV"):
        read_wav(tmp_path / "bad.wav")


@pytest.mark.parametrize("vad", ["energy", "webrtc"])
def test_endpointer_cuts_bursts_in_any_chunking(vad):
    x = tone_bursts([(0.5, 1.5), (2.5, 3.0)], 4.0)
    for chunk in (160, 1600, 7777):
        ep = Endpointer(EndpointConfig(vad=vad), RATE)
        segs = [s for i in range(0, x.size, chunk) for s in ep.feed(x[i:i + chunk])] + ep.flush()
        if vad == "webrtc" and len(segs) != 2:
            pytest.skip("pocketsphinx's VAD does not take a pure tone for speech")
        assert [(round(s.start_s, 1), round(s.end_s, 1)) for s in segs] == [(0.3, 1.6), (2.3, 3.1)], chunk


def test_endpointer_ignores_clicks_and_closes_long_speech():
    ep = Endpointer(EndpointConfig(vad="energy"), RATE)  # tones: the neural VAD rightly ignores them
    assert ep.feed(tone_bursts([(0.5, 0.6)], 2.0)) + ep.flush() == []  # 100 ms < min_speech_ms
    ep = Endpointer(EndpointConfig(vad="energy", max_speech_s=1.0), RATE)
    segs = ep.feed(tone_bursts([(0.2, 3.0)], 3.5)) + ep.flush()
    assert segs[0].truncated and segs[0].end_s - segs[0].start_s == pytest.approx(1.0, abs=0.05)


def test_shipped_grammar_is_the_generated_one(grammar):
    assert SHIPPED_GRAMMAR.read_text() == generated_jsgf(), "run: python -m vlm_ros.speech.grammar > " \
        "vlm_ros/speech/grammars/commands.gram"
    assert grammar.public_rule == "utterance" and {"red", "bowl", "gripper", "corner"} <= grammar.words()


def test_every_grammar_word_is_in_pocketsphinx_dictionary(grammar):
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL")
    assert [w for w in sorted(grammar.words()) if decoder.lookup_word(w) is None] == []


@pytest.mark.parametrize(("text", "program"), [
    ("put the red block in the green bowl", "pick(red block) ; place(green bowl)"),
    ("Take the red cube, and drop it in the green dish!", "pick(red block) ; place(green bowl)"),
    ("stack the blue box on top of the yellow block", "pick(blue block) ; place(yellow block)"),
    ("move the pink block to the middle", "pick(pink block) ; place(center)"),
    ("put it on the left", "place(left side)"),
    ("go to the far side", "move_to(top side)"),
    ("push the gray cube toward me", "push(gray block, back)"),
    ("push the red block to the left", "push(red block, left)"),
    ("pick up the white block then go home", "pick(white block) ; home()"),
    ("please open the gripper", "open_gripper()"),
    ("close gripper", "close_gripper()"),
    ("put all the red blocks in the blue bowl", "pick(all red blocks) ; place(blue bowl)"),
])
def test_commands_have_canonical_programs_the_grounding_parser_reads(grammar, text, program):
    command = parse_command(text)
    assert command is not None and command.program == program
    assert grammar.accepts(command.text)
    for step in program.split(";"):
        parse_step(step)  # the canonical form is the grounder's program format, without pixels


@pytest.mark.parametrize("text", ["put the red block in the green", "what time is it", "", "red",
                                  "go home and", "push the red block up"])
def test_out_of_grammar_text_has_no_command(grammar, text):
    assert parse_command(text) is None
    assert not grammar.accepts(normalize(text))


def test_same_command_ignores_synonyms_only():
    assert same_command("grab the red cube", "pick up the red block")
    assert not same_command("pick up the green block", "pick up the gray block")
    assert not same_command("what", "what")


def test_decision_gate(grammar):
    d = DecisionConfig(min_confidence=0.5)
    assert decide("go home", 0.9, grammar, d) == (OK, "")
    assert decide("go home", 0.2, grammar, d)[0] == LOW_CONFIDENCE
    assert decide("go home", float("nan"), grammar, d)[0] == LOW_CONFIDENCE
    assert decide("go to", 0.99, grammar, d)[0] == NOT_UNDERSTOOD
    assert decide("", 1.0, grammar, d)[0] == NOT_UNDERSTOOD
    assert decide("go to", 0.99, grammar, DecisionConfig(require_grammar=False))[0] == OK


def test_custom_grammar_file(tmp_path):
    path = tmp_path / "mine.gram"
    path.write_text("#JSGF V1.0;\ngrammar mine;\npublic <cmd> = (stop | go home);\n")
    mine = CommandGrammar.load(path)
    assert mine.accepts("stop") and not mine.accepts("put the red block in the green bowl")
    with pytest.raises(GrammarError, match="does not exist"):
        CommandGrammar.load(tmp_path / "missing.gram")


def test_unknown_parameter_is_refused():
    assert from_flat({"min_confidence": 0.7}).decision.min_confidence == 0.7
    with pytest.raises(ValueError, match="unknown speech parameter"):
        from_flat({"min_confidance": 0.7})
