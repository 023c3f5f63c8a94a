"""Every speech setting, declared once: default, description and range live on the dataclass field.

speech_node declares its ROS parameters from these fields, `vlm-ros listen` builds the same
dataclasses from its flags, and tests/test_speech_params.py checks config/speech.yaml and the
docs/SPEECH.md table against them, so defaults cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def setting(default: Any, description: str, lo: float | None = None, hi: float | None = None) -> Any:
    """A dataclass field carrying its parameter description and range."""
    return field(default=default, metadata={"description": description, "min": lo, "max": hi})


@dataclass
class SourceConfig:
    """Where audio comes from (speech_node only; the CLI has flags for these)."""

    source: str = setting("mic", "Audio source: mic (PortAudio microphone), topic (vlm_ros_interfaces/AudioData "
                          "on `audio`) or wav (the file wav_path).")
    mic_device: str = setting("", "Microphone: PortAudio device index or part of its name; empty for the "
                              "system default (list them with `vlm-ros listen --list-devices`).")
    mic_sample_rate: int = setting(16000, "Rate the microphone is opened at (Hz); 16000 avoids resampling.",
                                   8000, 96000)
    chunk_ms: int = setting(100, "Audio block size read from the microphone or WAV file (ms).", 10, 1000)
    wav_path: str = setting("", "WAV file played when source is wav.")
    wav_realtime: bool = setting(True, "Play the WAV file at real-time pace (as a microphone would) rather "
                                 "than as fast as recognition allows.")
    wav_start_delay_s: float = setting(1.0, "Wait before playing the WAV file, so subscribers can connect (s).",
                                       0.0, 60.0)


@dataclass
class EndpointConfig:
    """How the stream is cut into utterances (see endpoint.py)."""

    vad: str = setting("silero", "Speech detector: silero (neural VAD shipped in the silero-vad wheel, run "
                       "with ONNX Runtime; does not cut commands in noise), energy (tracked noise floor; cheap, "
                       "fine in a quiet room) or webrtc (pocketsphinx's WebRTC-style VAD).")
    vad_threshold: float = setting(0.5, "silero: speech probability above which a frame is speech.", 0.05, 0.95)
    frame_ms: float = setting(30.0, "Detector frame length (ms); webrtc accepts 10, 20 or 30.", 10.0, 30.0)
    threshold_db: float = setting(12.0, "energy: a frame is speech when this many dB above the noise floor.",
                                  0.0, 60.0)
    min_level_dbfs: float = setting(-55.0, "A frame quieter than this (dBFS) is never speech.", -120.0, 0.0)
    vad_mode: int = setting(2, "webrtc aggressiveness, 0 (loose) to 3 (strict).", 0, 3)
    start_ms: float = setting(90.0, "Speech needed to open an utterance (ms).", 10.0, 2000.0)
    end_silence_ms: float = setting(600.0, "Silence that closes an utterance (ms); longer tolerates slow "
                                    "speakers, shorter answers sooner.", 100.0, 5000.0)
    pre_roll_ms: float = setting(150.0, "Audio kept before the detected start (ms), so first sounds are "
                                 "not clipped.", 0.0, 2000.0)
    post_roll_ms: float = setting(100.0, "Audio kept after the last speech frame (ms).", 0.0, 2000.0)
    min_speech_ms: float = setting(200.0, "Utterances with less speech than this are dropped as clicks (ms).",
                                   0.0, 5000.0)
    max_speech_s: float = setting(10.0, "An utterance is cut (and recognised) after this long (s).", 1.0, 120.0)


@dataclass
class FrontEndConfig:
    """How an utterance is cleaned before recognition (see frontend.py)."""

    highpass_hz: float = setting(100.0, "High-pass filter cut-off (Hz) against rumble and hum; 0 disables.",
                                 0.0, 1000.0)
    noise_suppression: str = setting("noisereduce", "Spectral noise suppression: noisereduce (spectral gating "
                                     "with the noise learned from the non-speech audio before the utterance), "
                                     "deepfilternet (DeepFilterNet3 neural enhancer, shipped in its wheel; best "
                                     "in loud noise, slower), pocketsphinx (its own noise removal only) or none; "
                                     "several joined with + (noisereduce+deepfilternet) are each decoded and "
                                     "the best hearing is kept.")
    noise_reduction: float = setting(0.9, "noisereduce: fraction of the estimated noise removed (0..1).", 0.0, 1.0)
    deepfilter_attenuation_db: float = setting(100.0, "deepfilternet: the most noise is attenuated (dB); 100 "
                                               "is unlimited, which measured best at 10 dB SNR.", 0.0, 100.0)
    dereverberation: str = setting("none", "Dereverberation before noise suppression: wpe (weighted prediction "
                                   "error, nara-wpe; for echoing rooms) or none; wpe+none decodes both and keeps "
                                   "the best hearing (rooms that echo at times and are noisy at others).")
    wpe_taps: int = setting(30, "wpe: STFT hops (8 ms each) of history that predict the reverberant tail; "
                            "more for longer reverberation.", 1, 80)
    agc_target_dbfs: float = setting(-20.0, "Automatic gain: active speech is scaled to this level (dBFS), "
                                     "at most +30 dB; 0 disables.", -60.0, 0.0)


@dataclass
class RecognizerConfig:
    """Which ASR backend, with which model and vocabulary."""

    backend: str = setting("pocketsphinx", "ASR backend: pocketsphinx (offline, shipped English model, "
                           "grammar-constrained) or whisper (transformers; needs model_path).")
    model_path: str = setting("", "whisper: model directory (save_pretrained form); pocketsphinx: acoustic "
                              "model directory. Empty: pocketsphinx's shipped en-us model.")
    dict_path: str = setting("", "pocketsphinx pronunciation dictionary; empty: the shipped CMUdict.")
    grammar_path: str = setting("", "JSGF command grammar; empty: generated from the vocabulary "
                                "(vlm_ros/speech/grammars/commands.gram).")
    object_vocabulary_file: str = setting("", "Open vocabulary: a text file of the objects the cell has, one "
                                          "per line (banana, mug, screwdriver); the command grammar's object "
                                          "words come from it instead of the colour-block world. For "
                                          "open-vocabulary grounders; ignored when grammar_path is set.")
    language: str = setting("en", "whisper: spoken language code.")
    device: str = setting("cpu", "whisper: torch device (cpu or cuda).")


@dataclass
class DecisionConfig:
    """When a recognition becomes an instruction (and when it is reported as not understood)."""

    min_confidence: float = setting(0.5, "Recognitions below this confidence are reported as "
                                    "low_confidence and not published as instructions.", 0.0, 1.0)
    confirm_min_confidence: float = setting(0.15, "With confirm on: the confidence a command needs to be asked "
                                            "about. Lower than min_confidence, because the yes does the rejection "
                                            "(min_confidence still applies to the yes).", 0.0, 1.0)
    require_grammar: bool = setting(True, "Only text the command grammar accepts becomes an instruction "
                                    "(whisper's free text included).")
    dither_dbfs: float = setting(-70.0, "Level of the white noise added before recognition (dBFS); exact "
                                 "digital silence derails the acoustic features. -120 disables.", -120.0, -20.0)


@dataclass
class InteractionConfig:
    """Wake phrase, prompts and the stop command (speech_node's side of the conversation)."""

    wake_phrase: str = setting("", "When set (e.g. robot), only commands that start with it are published "
                               "(\"robot, put the red block in the green bowl\"); stop is always heard.")
    confirm: bool = setting(False, "Confirmation turn: ask \"Did you say: <command>?\" on speech_prompt and "
                            "publish the command only after a yes heard within confirm_timeout_s (no, silence or "
                            "anything else: nothing moves). Stop is always heard and never asked about.")
    confirm_timeout_s: float = setting(6.0, "How long the confirmation question waits for its yes (s).", 1.0, 60.0)
    speak_prompts: bool = setting(False, "Speak the prompts published on speech_prompt with espeak-ng.")
    prompt_voice: str = setting("en-us", "espeak-ng voice for spoken prompts.")
    stop_service: str = setting("stop", "std_srvs/Trigger service called when \"stop\" is heard (cancels the "
                                "running execution); empty disables.")


@dataclass
class SpeechConfig:
    """Everything the speech pipeline needs, grouped."""

    source: SourceConfig = field(default_factory=SourceConfig)
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    frontend: FrontEndConfig = field(default_factory=FrontEndConfig)
    recognizer: RecognizerConfig = field(default_factory=RecognizerConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    interaction: InteractionConfig = field(default_factory=InteractionConfig)


@dataclass(frozen=True)
class ParameterInfo:
    """One flat parameter: what speech_node declares and the docs table lists."""

    name: str
    default: Any
    description: str
    min: float | None
    max: float | None
    group: str  # attribute of SpeechConfig holding it


def parameters() -> list[ParameterInfo]:
    """All settings as flat, uniquely named parameters, in declaration order."""
    out: list[ParameterInfo] = []
    for group in dataclasses.fields(SpeechConfig):
        for f in dataclasses.fields(group.default_factory()):  # type: ignore[misc]
            meta = f.metadata
            out.append(ParameterInfo(f.name, f.default, meta["description"], meta["min"], meta["max"], group.name))
    return out


def from_flat(values: dict[str, Any]) -> SpeechConfig:
    """SpeechConfig from {parameter name: value}; missing names keep their defaults."""
    config = SpeechConfig()
    known = {p.name: p.group for p in parameters()}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown speech parameter(s): {', '.join(sorted(unknown))}")
    for name, value in values.items():
        setattr(getattr(config, known[name]), name, value)
    return config
