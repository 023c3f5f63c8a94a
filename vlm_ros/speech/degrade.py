"""Room conditions for test speech: white/pink noise at a given SNR, small-room reverb, short lead-ins.

Everything is seeded, so an evaluation is the same numbers every run. The SNR is measured as a
speech engineer would: RMS of the active speech (samples above -40 dB of the clip's peak frame)
against the RMS of the noise, and the noise covers the whole clip (lead, speech and tail), as
a room's fan or compressor does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlm_ros.speech.audio import AudioChunk, active_rms  # noqa: F401  (re-exported for evaluations)


@dataclass(frozen=True)
class Condition:
    """One room condition: `clean`, `white:20`, `pink:10` or `reverb`."""

    kind: str  # clean | white | pink | reverb
    snr_db: float = 0.0  # for white/pink [dB]

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.snr_db:g}" if self.kind in ("white", "pink") else self.kind

    @classmethod
    def parse(cls, text: str) -> Condition:
        kind, _, snr = text.strip().partition(":")
        if kind in ("white", "pink"):
            try:
                return cls(kind, float(snr))
            except ValueError:
                raise ValueError(f"noise {text!r} needs an SNR in dB, e.g. {kind}:20") from None
        if kind in ("clean", "reverb") and not snr:
            return cls(kind)
        raise ValueError(f"condition {text!r} is unknown (use clean, white:SNR, pink:SNR or reverb)")


def noise(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white or pink (1/f power) noise."""
    white = rng.standard_normal(size)
    if kind == "pink":
        spectrum = np.fft.rfft(white)
        f = np.arange(spectrum.size, dtype=np.float64)
        f[0] = 1.0
        white = np.fft.irfft(spectrum / np.sqrt(f), size)
    return white / max(float(np.sqrt(np.mean(white ** 2))), 1e-12)


def room_impulse(rate: int, rng: np.random.Generator, rt60_s: float = 0.35, length_s: float = 0.4) -> np.ndarray:
    """A small room's impulse response: direct path, a few early reflections, an exponential diffuse tail."""
    n = int(length_s * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
    tail[: int(0.005 * rate)] = 0.0  # the diffuse field starts after the first reflections
    h = 0.35 * tail / max(np.abs(tail).max(), 1e-12)
    h[0] = 1.0
    for delay_ms, gain in zip(rng.uniform(2.0, 15.0, 4), rng.uniform(0.3, 0.6, 4)):
        h[int(delay_ms * rate / 1000.0)] += gain * rng.choice((-1.0, 1.0))
    return h / np.sqrt(np.sum(h ** 2))


def apply(clip: AudioChunk, condition: Condition, speech_rms: float, seed: int) -> AudioChunk:
    """`clip` (padded speech) under `condition`; `speech_rms` is the dry speech's active RMS."""
    rng = np.random.default_rng(seed)
    x = clip.samples.astype(np.float64)
    if condition.kind == "reverb":
        h = room_impulse(clip.sample_rate, rng)
        x = np.convolve(x, h)[: x.size]
    elif condition.kind in ("white", "pink"):
        x = x + noise(condition.kind, x.size, rng) * speech_rms * 10.0 ** (-condition.snr_db / 20.0)
    elif condition.kind != "clean":
        raise ValueError(f"condition {condition.kind!r} is unknown")
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > 0.99:  # keep it a valid recording: scale instead of clipping
        x *= 0.99 / peak
    return AudioChunk(x.astype(np.float32), clip.sample_rate)


def padded(speech: AudioChunk, lead_s: float, tail_s: float, floor_dbfs: float, seed: int) -> AudioChunk:
    """Speech with `lead_s`/`tail_s` of near-silence (a quiet microphone's floor) around it."""
    rate = speech.sample_rate
    x = np.concatenate([np.zeros(int(lead_s * rate), np.float32), speech.samples,
                        np.zeros(int(tail_s * rate), np.float32)])
    floor = np.random.default_rng(seed + 7919).normal(0.0, 10.0 ** (floor_dbfs / 20.0), x.size)
    return AudioChunk((x + floor).astype(np.float32), rate)
