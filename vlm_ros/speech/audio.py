"""PCM bytes ⇄ float samples, resampling and WAV files: the audio plumbing every source shares.

Samples inside the speech package are always mono float32 in [-1, 1] with an explicit rate,
so sources (microphone, AudioData topic, WAV file) and recognisers never negotiate formats.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import InputError

ENCODINGS = ("S16LE", "F32LE")  # the two encodings vlm_ros_interfaces/AudioData documents


class AudioFormatError(InputError):
    """Audio bytes or a WAV file cannot be read as PCM (unknown encoding, odd length, ...)."""


@dataclass
class AudioChunk:
    """A piece of a mono stream: what every source yields."""

    samples: np.ndarray  # [N] float32 in [-1, 1]
    sample_rate: int  # [Hz]


def decode_pcm(data: bytes, encoding: str, channels: int = 1) -> np.ndarray:
    """Raw interleaved PCM → mono float32 [N]; channels are averaged (a mic array's mean is fine for ASR)."""
    encoding = encoding.upper()
    if encoding == "S16LE":
        dtype, scale = np.dtype("<i2"), 1.0 / 32768.0
    elif encoding == "F32LE":
        dtype, scale = np.dtype("<f4"), 1.0
    else:
        raise AudioFormatError(f"audio encoding {encoding!r} is not supported (use one of {', '.join(ENCODINGS)})")
    if channels < 1:
        raise AudioFormatError(f"audio must have at least one channel, got {channels}")
    frame_bytes = dtype.itemsize * channels
    if len(data) % frame_bytes:
        raise AudioFormatError(
            f"{len(data)} bytes of {encoding} audio is not a whole number of {channels}-channel frames")
    samples = np.frombuffer(data, dtype=dtype).astype(np.float32) * np.float32(scale)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def encode_s16le(samples: np.ndarray) -> bytes:
    """float [-1, 1] → S16LE bytes, clipped (what pocketsphinx and WAV files want)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling of a whole segment by FFT (ideal low-pass; segments are short).

    Used on endpointed segments, not on stream chunks, so there are no chunk-edge artefacts.
    """
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    n_out = round(samples.size * rate_out / rate_in)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    out_spectrum = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    keep = min(spectrum.size, out_spectrum.size)
    out_spectrum[:keep] = spectrum[:keep]
    return (np.fft.irfft(out_spectrum, n_out) * (n_out / samples.size)).astype(np.float32)


def dither(samples: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """Add white noise of RMS `level` (deterministic by seed).

    Digital silence (exact zeros, as in synthesized or gated audio) gives log-energy
    features of -inf and derails pocketsphinx's search; a real microphone never sends it.
    """
    if level <= 0.0:
        return samples
    noise = np.random.default_rng(seed).normal(0.0, level, samples.size).astype(np.float32)
    return samples + noise


def read_wav(path: str | Path) -> AudioChunk:
    """Whole WAV file (8/16/24/32-bit integer PCM, any channel count) → mono float32."""
    path = Path(path)
    if not path.is_file():
        raise AudioFormatError(f"WAV file {str(path)!r} does not exist")
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(
            f"{str(path)!r} is not an integer-PCM WAV file ({exc}); convert it, e.g. "
            f"`sox in.wav -b 16 -e signed-integer out.wav`") from None
    return AudioChunk(_pcm_to_float(raw, width, channels), rate)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Mono float32 → 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(encode_s16le(samples))


def _pcm_to_float(raw: bytes, width: int, channels: int) -> np.ndarray:
    if width == 1:  # WAV 8-bit is unsigned
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        ints = np.where(ints & 0x800000, ints - (1 << 24), ints)
        samples = ints.astype(np.float32) / float(1 << 23)
    elif width == 4:
        samples = (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise AudioFormatError(f"WAV sample width of {width} bytes is not supported")
    if channels > 1:
        samples = samples[: samples.size - samples.size % channels].reshape(-1, channels).mean(axis=1)
    return samples


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale; -120 for silence."""
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-6))


def active_rms(samples: np.ndarray, rate: int) -> float:
    """RMS of the frames within 40 dB of the loudest 20 ms frame (speech, not the pauses)."""
    n = max(1, int(0.02 * rate))
    frames = samples[: samples.size // n * n].reshape(-1, n)
    if frames.size == 0:
        return 0.0
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    active = power[power >= power.max() * 1e-4]
    return float(np.sqrt(np.mean(active)))
