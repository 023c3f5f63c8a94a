"""Test voices from four synthesis engines, so the speech evaluation is not one engine's accent.

espeak-ng (formant), flite (diphone, CMU voices), festival (diphone and HTS voices) and MBROLA
(diphone voices driven through espeak-ng's `mb-*` front end) are all Debian packages. A voice
is `engine:name` (e.g. `flite:slt`). Synthesized clips are cached as WAV files keyed by engine,
voice, speed and text under $VLM_ROS_SPEECH_CACHE (default ~/.cache/vlm_ros/speech), never in git.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vlm_ros.speech.audio import AudioChunk, read_wav, write_wav
from vlm_ros.speech.synth import SynthesisError, synthesize


@dataclass(frozen=True)
class Engine:
    name: str
    binaries: tuple[str, ...]  # programs that must be on PATH
    voices: tuple[str, ...]  # voices used by the evaluation
    package: str  # what to apt-get install when missing

    def available(self) -> bool:
        if not all(shutil.which(b) for b in self.binaries):
            return False
        return self.name != "mbrola" or Path("/usr/share/mbrola").is_dir()


ENGINES: dict[str, Engine] = {e.name: e for e in (
    Engine("espeak", ("espeak-ng",), ("en-us", "en-us+f2", "en-us+klatt4"), "espeak-ng"),
    Engine("flite", ("flite",), ("slt", "rms", "kal16"), "flite"),
    Engine("festival", ("text2wave",), ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"),
           "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"),
    Engine("mbrola", ("espeak-ng", "mbrola"), ("us1", "us2", "us3"), "mbrola mbrola-us1 mbrola-us2 mbrola-us3"),
)}


def engine_of(voice: str) -> Engine:
    name = voice.split(":", 1)[0]
    if name not in ENGINES:
        raise SynthesisError(f"speech engine {name!r} is unknown (use one of {', '.join(ENGINES)})")
    return ENGINES[name]


def voices(engines: list[str] | tuple[str, ...]) -> list[str]:
    """Every evaluation voice of the named engines, as engine:voice."""
    return [f"{e}:{v}" for e in engines for v in engine_of(e).voices]


def missing_engines(engines: list[str] | tuple[str, ...]) -> list[str]:
    return [e for e in engines if not engine_of(e).available()]


def cache_dir() -> Path:
    return Path(os.environ.get("VLM_ROS_SPEECH_CACHE", Path.home() / ".cache" / "vlm_ros" / "speech"))


def speak(text: str, voice: str, speed: float = 1.0) -> AudioChunk:
    """`text` spoken by `voice` (engine:name) at `speed` (1.0 = the voice's normal rate); cached."""
    engine = engine_of(voice)
    name = voice.split(":", 1)[1] if ":" in voice else engine.voices[0]
    key = hashlib.sha1(f"{engine.name}|{name}|{speed:.3f}|{text}".encode()).hexdigest()[:20]
    path = cache_dir() / engine.name / f"{key}.wav"
    if path.is_file():
        return read_wav(path)
    if not engine.available():
        raise SynthesisError(f"speech engine {engine.name} is not installed (apt-get install {engine.package})")
    chunk = _synthesize(engine.name, name, text, speed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    write_wav(tmp, chunk.samples, chunk.sample_rate)
    tmp.replace(path)  # atomic: parallel evaluations never read half a file
    return chunk


def _synthesize(engine: str, voice: str, text: str, speed: float) -> AudioChunk:
    if engine == "espeak":
        return synthesize(text, voice, round(170 * speed))
    if engine == "mbrola":
        return synthesize(text, f"mb-{voice}", round(160 * speed))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "out.wav")
        if engine == "flite":
            cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={1.0 / speed:.3f}", "-t", text,
                   "-o", str(out)]
            stdin = None
        else:  # festival
            cmd = ["text2wave", "-eval", f"(voice_{voice})", "-eval",
                   f"(Parameter.set 'Duration_Stretch {1.0 / speed:.3f})", "-o", str(out)]
            stdin = text.encode()
        result = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120, check=False)
        if result.returncode != 0 or not out.is_file():
            raise SynthesisError(f"{engine} failed for voice {voice!r}: {result.stderr.decode(errors='replace')}")
        return read_wav(out)
