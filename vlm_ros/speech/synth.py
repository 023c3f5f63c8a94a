"""Speech synthesized with espeak-ng: test audio made at test time, and a mic-free way to try the node.

Clips are padded with silence and carry a little room noise, as a microphone recording would:
exact digital silence and speech starting at sample 0 are things no microphone produces.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from vlm_ros.core.errors import InputError
from vlm_ros.speech.audio import AudioChunk

ESPEAK = "espeak-ng"


class SynthesisError(InputError):
    """espeak-ng is missing or failed."""


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def synthesize(text: str, voice: str = "en-us", speed_wpm: int = 160) -> AudioChunk:
    """espeak-ng's rendering of `text` (22.05 kHz mono), without padding."""
    if not espeak_available():
        raise SynthesisError("espeak-ng is not installed (apt-get install espeak-ng)")
    import io
    import wave

    result = subprocess.run([ESPEAK, "-v", voice, "-s", str(speed_wpm), "--stdout", text],
                            capture_output=True, check=False, timeout=60)
    if result.returncode != 0 or not result.stdout:
        raise SynthesisError(f"espeak-ng failed for voice {voice!r}: {result.stderr.decode(errors='replace')}")
    with wave.open(io.BytesIO(result.stdout)) as wav:
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    return AudioChunk(samples, rate)


def with_room(chunk: AudioChunk, lead_s: float = 0.5, tail_s: float = 1.0, noise_dbfs: float = -60.0,
              seed: int = 0) -> AudioChunk:
    """Pad with silence on both sides and add white noise at `noise_dbfs` RMS."""
    rate = chunk.sample_rate
    samples = np.concatenate([np.zeros(int(lead_s * rate), np.float32), chunk.samples,
                              np.zeros(int(tail_s * rate), np.float32)])
    noise = np.random.default_rng(seed).normal(0.0, 10.0 ** (noise_dbfs / 20.0), samples.size)
    return AudioChunk((samples + noise).astype(np.float32), rate)


def spoken_clip(text: str, voice: str = "en-us", speed_wpm: int = 160, noise_dbfs: float = -60.0,
                seed: int = 0) -> AudioChunk:
    """A command as a microphone in a quiet room would record it."""
    return with_room(synthesize(text, voice, speed_wpm), noise_dbfs=noise_dbfs, seed=seed)
