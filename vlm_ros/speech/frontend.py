"""Clean an endpointed utterance before recognition: high-pass, spectral noise suppression, gain.

- High-pass (Butterworth, 2nd order): rumble, hum and DC carry no phonetic information but
  dominate a workshop microphone's energy.
- Spectral noise suppression (noisereduce's spectral gating): the noise spectrum is learned
  from the stream's own non-speech frames just before the utterance (the endpointer keeps
  them), so it tracks the room's noise floor rather than assuming one.
- Automatic gain: the active speech is brought to `agc_target_dbfs`, so quiet talkers and
  far microphones look like the levels the acoustic model was trained on.
- Suppressors joined with "+" (`noisereduce+deepfilternet`) give one cleaned version each
  (`variants`); the pipeline decodes every one and keeps the best hearing. The two fail on different
  clips: at white 10 dB SNR noisereduce alone heard 102 of 144 commands, DeepFilterNet 114, and the
  more confident of the two hearings 124.
- Dereverberation the same way: `wpe+none` decodes the utterance with and without WPE, because WPE
  helps in an echoing room and hurts in a noisy dry one (reverb 75.7 % against 68.8 %, white 20 dB
  83.7 % against 91.0 %, on the 12-voice subset), and a cell is not always one or the other.
"""

from __future__ import annotations

import numpy as np

from vlm_ros.speech.audio import active_rms
from vlm_ros.speech.config import FrontEndConfig
from vlm_ros.speech.dereverb import dereverberate

NOISE_SUPPRESSORS = ("noisereduce", "deepfilternet", "pocketsphinx", "none")
DEREVERBERATORS = ("wpe", "none")
MAX_GAIN_DB = 30.0  # never amplify more than this (a whisper is not worth raising the noise 40 dB)


class FrontEnd:
    """Stateless per utterance; `noise` is audio the endpointer judged non-speech, at the same rate."""

    def __init__(self, config: FrontEndConfig):
        self.config = config
        self.suppressors = _choices("noise_suppression", config.noise_suppression, NOISE_SUPPRESSORS)
        self.dereverberators = _choices("dereverberation", config.dereverberation, DEREVERBERATORS)
        # import now, not on the first utterance
        import scipy.signal  # noqa: F401

        if "noisereduce" in self.suppressors:
            _import_noisereduce()
        self.deepfilter = None
        if "deepfilternet" in self.suppressors:
            from vlm_ros.speech.deepfilter import DeepFilter

            self.deepfilter = DeepFilter(config.deepfilter_attenuation_db)

    def process(self, samples: np.ndarray, rate: int, noise: np.ndarray | None = None) -> np.ndarray:
        """The utterance cleaned by the first suppressor."""
        return self.variants(samples, rate, noise)[0]

    def variants(self, samples: np.ndarray, rate: int, noise: np.ndarray | None = None) -> list[np.ndarray]:
        """The utterance cleaned once per dereverberator and suppressor, in that order (high-pass shared)."""
        x = samples.astype(np.float32, copy=False)
        if x.size < rate // 50:
            return [x]
        c = self.config
        if c.highpass_hz > 0.0:
            x = highpass(x, rate, c.highpass_hz)
            if noise is not None and noise.size:
                noise = highpass(noise, rate, c.highpass_hz)
        out = []
        for dereverberator in self.dereverberators:
            dry = dereverberate(x, rate, taps=c.wpe_taps) if dereverberator == "wpe" else x
            for name in self.suppressors:
                y = dry
                if name == "noisereduce":
                    y = suppress_noise(dry, rate, noise, c.noise_reduction)
                elif name == "deepfilternet":
                    assert self.deepfilter is not None
                    y = self.deepfilter.enhance(dry, rate, noise)
                out.append(gain(y, rate, c.agc_target_dbfs) if c.agc_target_dbfs < 0.0 else y)
        return out


def _choices(name: str, value: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A "+"-joined option (`noisereduce+deepfilternet`), each part known and named once."""
    parts = tuple(value.split("+"))
    if not set(parts) <= set(known) or len(set(parts)) < len(parts):
        raise ValueError(f"{name} {value!r} is unknown (use one of {', '.join(known)}, or several joined with +)")
    return parts


def _import_noisereduce():
    """noisereduce without torch: it imports torch, when installed, only for its optional GPU gate, which
    the stationary gate used here never touches. Hiding torch during the import saves seconds of start-up
    (and ~300 MB) in the speech node; a torch imported before or after is unaffected."""
    import sys

    if "noisereduce" in sys.modules or "torch" in sys.modules:
        import noisereduce

        return noisereduce
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import noisereduce
    finally:
        del sys.modules["torch"]
    return noisereduce


def highpass(x: np.ndarray, rate: int, cutoff_hz: float) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(2, min(cutoff_hz, 0.45 * rate), btype="highpass", fs=rate, output="sos")
    return sosfilt(sos, x).astype(np.float32)


def suppress_noise(x: np.ndarray, rate: int, noise: np.ndarray | None, amount: float) -> np.ndarray:
    """Stationary spectral gating; the noise profile is `noise` when there is enough of it (>= 0.25 s)."""
    noisereduce = _import_noisereduce()
    profile = noise if noise is not None and noise.size >= rate // 4 else None
    out = noisereduce.reduce_noise(y=x, sr=rate, y_noise=profile, stationary=True, prop_decrease=amount,
                                   n_fft=512, n_jobs=1, use_tqdm=False)
    return np.asarray(out, np.float32)


def gain(x: np.ndarray, rate: int, target_dbfs: float) -> np.ndarray:
    rms = active_rms(x, rate)
    if rms <= 0.0:
        return x
    g = min(10.0 ** ((target_dbfs - 20.0 * np.log10(rms)) / 20.0), 10.0 ** (MAX_GAIN_DB / 20.0))
    y = x * np.float32(g)
    peak = float(np.abs(y).max())
    return y * np.float32(0.99 / peak) if peak > 0.99 else y
