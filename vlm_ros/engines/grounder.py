"""A Grounder over any Runtime: the torch grounder's pre- and post-processing and its loop.

Only `decode` differs from `TorchGrounder`, and only in the runtime it hands the one loop
(`models.decoding.decode_program`); prompt building, the end-of-program callback, the presence
check (verify_program), the pixel mapping, the program text and parsing are inherited, so every
backend turns the same tokens into the same plan.
"""

from __future__ import annotations

import threading

import numpy as np

from vlm_ros.engines.runtime import Runtime
from vlm_ros.models.decoding import DecodedProgram, decode_program
from vlm_ros.models.processor import ImageProcessor
from vlm_ros.models.torch_grounder import TorchGrounder


class EngineGrounder(TorchGrounder):
    """Implements vlm_ros.grounding.base.Grounder on an ONNX Runtime or TensorRT runtime."""

    def __init__(self, runtime: Runtime, tokenizer, processor: ImageProcessor, model_id: str,
                 presence_threshold: float | None = None):
        # TorchGrounder.__init__ wants a torch model; set what its ground() and on_eos read instead.
        self.runtime = runtime
        self.tokenizer = tokenizer
        self.processor = processor
        self.model_id = model_id
        self.backend = runtime.name
        self._pick_id = tokenizer.convert_tokens_to_ids("pick")
        self._words = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        d = runtime.dims
        self.grid_size, self.patch_size = d.grid_size, d.patch_size
        # the model's presence check (verify_program in ground(), the put-all completion in on_eos)
        self.presence_threshold = d.presence_threshold if presence_threshold is None else presence_threshold
        self.bowl_presence_threshold = d.bowl_presence_threshold  # 0: presence_threshold
        self.refusal_overrule_threshold = d.refusal_overrule_threshold  # 0: off
        self._lock = threading.Lock()  # the runtime holds one request's state (KV cache, buffers)

    def decode(self, rgb: np.ndarray, instruction: str, timings: dict[str, float] | None = None,
               allow_refusal: bool = True) -> DecodedProgram:
        pixel_values = self.processor(rgb).numpy()  # [1, 3, S, S] float32
        prompt, on_eos = self.request(instruction)
        with self._lock:
            return decode_program(self.runtime, pixel_values, prompt, pick_token_id=self._pick_id, timings=timings,
                                 words=self._words, on_eos=on_eos, allow_refusal=allow_refusal)
