"""TensorRT runtime: one engine per exported graph on one CUDA stream, buffers in torch CUDA tensors.

Same buffer plan as the ONNX Runtime runtime (see ort_runtime.py): the KV cache (two sets of
per-layer buffers that swap roles each call), embeddings and hidden states are preallocated
once, and each engine reads and writes them in place by address (`set_tensor_address`), so a
decode step moves only one token id in and the logits out.
The decoder has two execution contexts over one engine, one per optimization profile
(prefill, decode), so switching phase costs nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.engines.graphs import kv_names
from vlm_ros.engines.manifest import GRAPHS, Manifest
from vlm_ros.engines.trt_builder import DECODE_PROFILE, MAX_PICKED, PREFILL_PROFILE

log = logging.getLogger(__name__)


class _Context:
    """An execution context plus the addresses it runs with."""

    def __init__(self, engine, stream_handle: int, profile: int = 0):
        self.context = engine.create_execution_context()
        if profile:
            self.context.set_optimization_profile_async(profile, stream_handle)

    def run(self, stream_handle: int, shapes: dict[str, tuple[int, ...]], addresses: dict[str, int]) -> None:
        for name, shape in shapes.items():
            if not self.context.set_input_shape(name, shape):
                raise RuntimeError(f"TensorRT rejected shape {shape} for {name}")
        for name, address in addresses.items():
            self.context.set_tensor_address(name, address)
        if not self.context.execute_async_v3(stream_handle):
            raise RuntimeError("TensorRT execution failed (see the TensorRT log)")


class TensorRTRuntime:
    """Runtime (see runtime.py) over engines built by trt_builder."""

    def __init__(self, engine_dir: Path, device: str = "cuda"):
        import tensorrt as trt
        import torch

        self.manifest = Manifest.load(engine_dir)
        self.dims = d = self.manifest.dims
        self.device = torch.device(device if device.startswith("cuda") else "cuda")
        self.name = "tensorrt"
        self.torch = torch
        self.logger = trt.Logger(trt.Logger.WARNING)
        runtime = trt.Runtime(self.logger)
        self.engines = {}
        for name in GRAPHS:
            plan = Path(engine_dir, f"{name}.plan")
            engine = runtime.deserialize_cuda_engine(plan.read_bytes()) if plan.is_file() else None
            if engine is None:
                raise ModelLoadError(f"{plan} is missing or was built for another GPU or TensorRT version")
            self.engines[name] = engine
        with torch.cuda.device(self.device):
            self.stream = torch.cuda.Stream(self.device)
        handle = self.stream.cuda_stream
        self.contexts = {name: _Context(self.engines[name], handle) for name in GRAPHS if name != "decoder"}
        self.contexts["prefill"] = _Context(self.engines["decoder"], handle, PREFILL_PROFILE)
        self.contexts["decode"] = _Context(self.engines["decoder"], handle, DECODE_PROFILE)
        self.dtype = {"float32": torch.float32, "float16": torch.float16}[
            self._io_dtype(trt, self.engines["decoder"], "inputs_embeds")]

        def buffer(*shape: int, dtype=self.dtype):
            return torch.zeros(shape, dtype=dtype, device=self.device)

        width, limit = d.hidden_size, d.max_positions
        self.past_names, self.present_names = kv_names(d.num_layers, "past"), kv_names(d.num_layers, "present")
        self.kv = buffer(2, len(self.past_names), d.num_kv_heads * limit * d.head_dim)  # [side, tensor, flat]
        self.side = 0  # which half holds the current past
        self.embeds, self.hidden = buffer(limit, width), buffer(limit, width)  # rows are positions (batch 1)
        self.step_embeds, self.step_hidden = buffer(1, width), buffer(1, width)
        self.log_probs = buffer(1, d.vocab_size, dtype=torch.float32)  # the token head is float32
        self.copy_keys = buffer(limit, d.copy_dim)
        self.instr_ids = buffer(limit, dtype=torch.int64)
        self.instr_mask = buffer(limit, dtype=torch.float32)
        self._words = 1
        self.keys, self.offset_keys = buffer(d.num_patches, d.pointer_dim), buffer(d.num_patches, d.offset_hidden)
        self.class_log_probs = buffer(d.num_patches, d.num_patch_classes, dtype={
            "float32": torch.float32, "float16": torch.float16}[
            self._io_dtype(trt, self.engines["pointer_keys"], "patch_log_probs")])
        self.pointer_logits, self.offsets = buffer(1, d.num_patches), buffer(MAX_PICKED, 2)
        self.patches = buffer(MAX_PICKED, dtype=torch.int64)
        self._keys_ready = False
        self.pixels = buffer(1, 3, d.image_size, d.image_size)
        self.ids = buffer(limit, dtype=torch.int64)
        self.feedback = buffer(limit, dtype=torch.int64)
        self.length = 0
        self._last = self.hidden[0:1]
        self.stream.synchronize()

    @staticmethod
    def _io_dtype(trt, engine, name: str) -> str:
        dtype = engine.get_tensor_dtype(name)
        return "float16" if dtype == trt.DataType.HALF else "float32"

    # --- helpers -----------------------------------------------------------------------------
    def _upload(self, target, array: np.ndarray) -> None:
        source = self.torch.from_numpy(np.ascontiguousarray(array))
        with self.torch.cuda.stream(self.stream):
            target[: len(source)].copy_(source.to(target.dtype), non_blocking=False)

    def _embed(self, ids: np.ndarray, feedback: np.ndarray, out) -> None:
        self._upload(self.ids, ids)
        self._upload(self.feedback, feedback)
        n = len(ids)
        self.contexts["embed"].run(self.stream.cuda_stream, {"input_ids": (1, n), "feedback": (1, n)},
                                   {"input_ids": self.ids.data_ptr(), "feedback": self.feedback.data_ptr(),
                                    "inputs_embeds": out.data_ptr()})

    def _decode(self, phase: str, embeds, steps: int, hidden) -> None:
        d = self.dims
        if self.length + steps > d.max_positions:
            raise RuntimeError(f"sequence longer than the {d.max_positions} positions the cache holds")
        other = 1 - self.side
        shapes = {"inputs_embeds": (1, steps, d.hidden_size)} | {n: d.kv_shape(self.length) for n in self.past_names}
        addresses = {"inputs_embeds": embeds.data_ptr(), "hidden": hidden.data_ptr()}
        for j, (past, present) in enumerate(zip(self.past_names, self.present_names)):
            addresses[past] = self.kv[self.side, j].data_ptr()
            addresses[present] = self.kv[other, j].data_ptr()
        self.contexts[phase].run(self.stream.cuda_stream, shapes, addresses)
        self.length += steps
        self.side = other
        self._last = hidden[steps - 1: steps]

    def _token_scores(self) -> np.ndarray:
        d, words = self.dims, self._words
        self.contexts["token_scores"].run(
            self.stream.cuda_stream,
            {"state": (1, 1, d.hidden_size), "copy_keys": (1, words, d.copy_dim), "instr_ids": (1, words),
             "instr_mask": (1, words)},
            {"state": self._last.data_ptr(), "copy_keys": self.copy_keys.data_ptr(),
             "instr_ids": self.instr_ids.data_ptr(), "instr_mask": self.instr_mask.data_ptr(),
             "log_probs": self.log_probs.data_ptr()})
        return self._read(self.log_probs)[0]

    def _read(self, tensor) -> np.ndarray:
        self.stream.synchronize()
        return tensor.float().cpu().numpy()

    # --- Runtime -----------------------------------------------------------------------------
    def encode_image(self, pixel_values: np.ndarray) -> None:
        self._upload(self.pixels, pixel_values)
        self.contexts["vision"].run(self.stream.cuda_stream, {"pixel_values": tuple(self.pixels.shape)},
                                    {"pixel_values": self.pixels.data_ptr(), "image_embeds": self.embeds.data_ptr()})
        self.length, self.side = 0, 0
        self._keys_ready = False
        self.stream.synchronize()  # so the vision stage's time is the vision engine's, not the prefill's

    def prefill(self, input_ids: np.ndarray) -> np.ndarray:
        p, n = self.dims.num_patches, len(input_ids)
        self._embed(input_ids, np.full(n, -1), self.embeds[p:])
        self._decode("prefill", self.embeds, p + n, self.hidden)
        words = n - 1  # the copy head's instruction words: the prompt minus <sep>; none -> one masked dummy
        self._words = max(words, 1)
        self._upload(self.instr_ids, np.asarray(input_ids[: self._words], dtype=np.int64))
        self._upload(self.instr_mask, np.full(self._words, 1.0 if words else 0.0, dtype=np.float32))
        self.contexts["copy_keys"].run(
            self.stream.cuda_stream, {"instr_states": (1, self._words, self.dims.hidden_size)},
            {"instr_states": self.hidden[p].data_ptr(), "copy_keys": self.copy_keys.data_ptr()})
        return self._token_scores()

    def step(self, token_id: int, feedback: int) -> np.ndarray:
        self._embed(np.array([token_id]), np.array([feedback]), self.step_embeds)
        self._decode("decode", self.step_embeds, 1, self.step_hidden)
        return self._token_scores()

    def _pointer_keys(self) -> None:
        """The image-side projections and the patch classifier, once per request (after prefill)."""
        d = self.dims
        if not self._keys_ready:
            self.contexts["pointer_keys"].run(
                self.stream.cuda_stream, {"image_states": (1, d.num_patches, d.hidden_size)},
                {"image_states": self.hidden.data_ptr(), "keys": self.keys.data_ptr(),
                 "offset_keys": self.offset_keys.data_ptr(), "patch_log_probs": self.class_log_probs.data_ptr()})
            self._keys_ready = True

    def patch_log_probs(self) -> np.ndarray:
        self._pointer_keys()
        return self._read(self.class_log_probs)

    def pointer_scores(self) -> np.ndarray:
        d, handle = self.dims, self.stream.cuda_stream
        self._pointer_keys()
        self.contexts["pointer_scores"].run(
            handle, {"loc_states": (1, 1, d.hidden_size), "keys": (1, d.num_patches, d.pointer_dim)},
            {"loc_states": self._last.data_ptr(), "keys": self.keys.data_ptr(),
             "pointer_logits": self.pointer_logits.data_ptr()})
        return self._read(self.pointer_logits)[0]

    def pointer_offsets(self, patches: list[int]) -> np.ndarray:
        d, m = self.dims, len(patches)
        self._upload(self.patches, np.asarray(patches, dtype=np.int64))
        self.contexts["pointer_offsets"].run(
            self.stream.cuda_stream,
            {"loc_states": (1, 1, d.hidden_size), "offset_keys": (1, d.num_patches, d.offset_hidden),
             "patches": (1, 1, m)},
            {"loc_states": self._last.data_ptr(), "offset_keys": self.offset_keys.data_ptr(),
             "patches": self.patches.data_ptr(), "offsets": self.offsets.data_ptr()})
        return self._read(self.offsets)[:m]
