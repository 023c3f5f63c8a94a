"""Dereverberation by weighted prediction error (WPE), with the `nara-wpe` implementation.

Why: in a small room the tail of each sound lands on the next one, and pocketsphinx's acoustic model
(trained on close-talking speech) hears the smeared vowels as other phones and loses the last word.
WPE predicts the late reverberation of each STFT bin from the frames `delay` and more before it and
subtracts it, leaving the direct sound and early reflections; it needs no model of the room and works
on one microphone.
"""

from __future__ import annotations

import numpy as np

FFT_SIZE_S = 0.032  # 512 samples at 16 kHz
SHIFT_FRACTION = 4  # hop = size / 4


def dereverberate(x: np.ndarray, rate: int, taps: int = 10, delay: int = 3, iterations: int = 3) -> np.ndarray:
    """`x` with its late reverberation removed, same length. `taps` hops of history predict the tail."""
    from nara_wpe.utils import istft, stft
    from nara_wpe.wpe import wpe

    size = 1 << int(round(np.log2(FFT_SIZE_S * rate)))
    shift = size // SHIFT_FRACTION
    spectrum = stft(x.astype(np.float64)[None, :], size=size, shift=shift)  # (1, frames, bins)
    enhanced = wpe(spectrum.transpose(2, 0, 1), taps=taps, delay=delay, iterations=iterations,
                   statistics_mode="full").transpose(1, 2, 0)
    y = istft(enhanced, size=size, shift=shift)[0]
    out = np.zeros(x.size, np.float32)
    out[: min(x.size, y.size)] = y[: x.size]
    return out
