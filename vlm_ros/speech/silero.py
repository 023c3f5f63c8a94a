"""Silero VAD (the ONNX model shipped inside the `silero-vad` wheel) run with ONNX Runtime and numpy.

The package's own wrapper imports torch; this one needs only onnxruntime, which the node has
anyway, and it never downloads anything: the model file is read from the installed package.
A neural VAD tells speech from fans, hiss and clatter far better than an energy threshold,
so commands are not cut (or opened) by noise.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import ModelLoadError

RATE = 16000  # the model's rate; 512-sample windows (32 ms) with a 64-sample context
WINDOW = 512
CONTEXT = 64


def model_path() -> str:
    """The ONNX file inside the installed package (found without importing it: its __init__ imports torch)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError("the silero-vad package is not installed (pip install silero-vad); "
                             "use vad: energy or webrtc")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise ModelLoadError(f"silero-vad's ONNX model is missing from the package ({path})")
    return str(path)


class SileroVad:
    """Streaming speech probability per 32 ms window of 16 kHz audio."""

    def __init__(self) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(model_path(), opts, providers=["CPUExecutionProvider"])
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros((1, CONTEXT), np.float32)

    def probability(self, window: np.ndarray) -> float:
        """window: [512] float32 at 16 kHz -> P(speech) in 0..1."""
        x = np.concatenate([self._context, window.reshape(1, WINDOW).astype(np.float32)], axis=1)
        out, self._state = self.session.run(None, {"input": x, "state": self._state,
                                                   "sr": np.array(RATE, dtype=np.int64)})
        self._context = x[:, -CONTEXT:]
        return float(out.reshape(-1)[0])
