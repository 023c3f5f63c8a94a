"""ONNX Runtime runtime: the exported graphs with IO binding and a preallocated KV cache.

All state lives in buffers allocated once per runtime on the session's device (CPU memory or
CUDA memory), and every graph reads and writes them in place through IO binding:

    vision  -> embeds[0:P]            embed -> embeds[P:P+n]   (prompt) / step_embeds (one token)
    decoder(embeds[0:P+n], past: kv A, 0 positions) -> hidden[0:P+n], present: kv B   (prefill)
    decoder(step_embeds, past: kv B, t positions)   -> step_hidden, present: kv A     (decode step)
    copy_keys(hidden[P:P+words])      -> copy_keys                               (after prefill)
    token_scores(last hidden, copy_keys, instruction ids) -> log_probs            (every token)
    pointer_keys(hidden[0:P])         -> keys, offset_keys, patch_log_probs      (once, after prefill)
    pointer_scores(last hidden, keys) -> pointer_logits
    pointer_offsets(last hidden, offset_keys, patches) -> offsets                (3x3 patches only)

The KV cache is two preallocated sets of per-layer buffers that swap roles every call: the
graph's `present` (past followed by the new positions) of one call is the `past` of the next.
Only the prompt ids, the pixels and the small score vectors cross between host and device.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.engines.graphs import kv_names
from vlm_ros.engines.manifest import Manifest

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
MAX_PICKED = 9  # offsets are asked for at the chosen patch and its 3x3 neighbours


def ort_providers(device: str) -> list:
    """Execution providers for `device` ("cpu", "cuda", "cuda:1"), or ModelLoadError saying why
    that device cannot be used."""
    import onnxruntime as ort

    kind, _, index = device.partition(":")
    if kind not in PROVIDERS:
        raise ModelLoadError(f"onnxruntime runs on cpu or cuda, not {device!r}.")
    if PROVIDERS[kind] not in ort.get_available_providers():
        raise ModelLoadError(f"this onnxruntime build ({ort.__version__}) has no {PROVIDERS[kind]} "
                             f"(available: {', '.join(ort.get_available_providers())}); for cuda install "
                             "onnxruntime-gpu built for the machine's CUDA.")
    if kind == "cpu":
        return [PROVIDERS["cpu"]]
    return [(PROVIDERS["cuda"], {"device_id": int(index or 0)}), PROVIDERS["cpu"]]


class _Buffer:
    """One preallocated device array; views are (pointer, shape) pairs into it."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, device: str, device_id: int):
        import onnxruntime as ort

        self.value = ort.OrtValue.ortvalue_from_shape_and_type(list(shape), dtype, device, device_id)
        self.shape, self.dtype = shape, np.dtype(dtype)
        self.row_bytes = int(np.prod(shape[1:])) * self.dtype.itemsize  # bytes per index of axis 0

    def ptr(self, start: int = 0) -> int:
        return self.value.data_ptr() + start * self.row_bytes

    def read(self) -> np.ndarray:
        """A float32 host copy (on CPU `OrtValue.numpy()` can alias the buffer, which the next run overwrites)."""
        return np.array(self.value.numpy(), dtype=np.float32)


class OrtRuntime:
    """Runtime (see runtime.py) over the exported graphs with ONNX Runtime."""

    def __init__(self, onnx_dir: Path, device: str = "cpu", threads: int = 0):
        import onnxruntime as ort

        self.manifest = Manifest.load(onnx_dir)
        self.dims = d = self.manifest.dims
        providers = ort_providers(device)
        self.device, _, index = device.partition(":")
        self.device_id = int(index or 0)
        self.name = f"onnxruntime-{self.device}"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # no per-node placement chatter
        self.sessions = {name: ort.InferenceSession(str(Path(onnx_dir, spec.file)), options, providers=providers)
                         for name, spec in self.manifest.graphs.items()}
        self.bindings = {name: s.io_binding() for name, s in self.sessions.items()}
        self.dtype = np.dtype(self.manifest.dtype)
        width, limit = d.hidden_size, d.max_positions

        def buffer(*shape: int, dtype: np.dtype = self.dtype) -> _Buffer:
            return _Buffer(shape, dtype, self.device, self.device_id)

        self.past_names, self.present_names = kv_names(d.num_layers, "past"), kv_names(d.num_layers, "present")
        kv_tensors = len(self.past_names)
        self.kv = buffer(2 * kv_tensors, d.num_kv_heads * limit * d.head_dim)  # row = side * 2L + tensor
        self.side = 0  # which half holds the current past
        self.embeds = buffer(limit, width)  # viewed as [1, T, D]: batch 1, so rows are positions
        self.hidden = buffer(limit, width)
        self.step_embeds, self.step_hidden = buffer(1, width), buffer(1, width)
        self.log_probs = buffer(1, d.vocab_size, dtype=np.dtype(np.float32))  # the token head is float32
        self.copy_keys = buffer(limit, d.copy_dim)
        self.keys, self.offset_keys = buffer(d.num_patches, d.pointer_dim), buffer(d.num_patches, d.offset_hidden)
        self.class_log_probs = buffer(d.num_patches, d.num_patch_classes, dtype=np.dtype(np.float32))
        self.pointer_logits, self.offsets = buffer(1, d.num_patches), buffer(MAX_PICKED, 2)
        self._keys_ready = False  # keys depend on the image states only: computed once per request
        self.length = 0  # positions in the KV cache
        self._host_arrays: dict[tuple[str, str], np.ndarray] = {}
        self._words, self._instr_ids, self._instr_mask = 1, np.zeros((1, 1), np.int64), np.zeros((1, 1), np.float32)
        self._last_ptr = 0  # address of the last fed token's hidden state

    # --- binding helpers ---------------------------------------------------------------------
    def _in(self, graph: str, name: str, buf: _Buffer, shape: list[int], start: int = 0) -> None:
        self.bindings[graph].bind_input(name, self.device, self.device_id, buf.dtype, shape, buf.ptr(start))

    def _out(self, graph: str, name: str, buf: _Buffer, shape: list[int], start: int = 0) -> None:
        self.bindings[graph].bind_output(name, self.device, self.device_id, buf.dtype, shape, buf.ptr(start))

    def _host_input(self, graph: str, name: str, array: np.ndarray) -> None:
        """Bind a host array. ONNX Runtime may keep a pointer to its memory rather than a copy,
        so the array is kept alive here until the next bind of the same input."""
        array = np.ascontiguousarray(array)
        self._host_arrays[graph, name] = array
        self.bindings[graph].bind_cpu_input(name, array)

    def _run(self, graph: str) -> None:
        binding = self.bindings[graph]
        self.sessions[graph].run_with_iobinding(binding)
        binding.synchronize_outputs()

    def _embed(self, ids: np.ndarray, feedback: np.ndarray, out: _Buffer, start: int) -> None:
        self._host_input("embed", "input_ids", np.asarray(ids, dtype=np.int64)[None])
        self._host_input("embed", "feedback", np.asarray(feedback, dtype=np.int64)[None])
        self._out("embed", "inputs_embeds", out, [1, len(ids), self.dims.hidden_size], start)
        self._run("embed")

    def _decode(self, embeds: _Buffer, start: int, steps: int, hidden: _Buffer) -> None:
        d = self.dims
        if self.length + steps > d.max_positions:
            raise RuntimeError(f"sequence longer than the {d.max_positions} positions the cache holds")
        self._in("decoder", "inputs_embeds", embeds, [1, steps, d.hidden_size], start)
        n, other = len(self.past_names), 1 - self.side
        for j, (past, present) in enumerate(zip(self.past_names, self.present_names)):
            self._in("decoder", past, self.kv, list(d.kv_shape(self.length)), self.side * n + j)
            self._out("decoder", present, self.kv, list(d.kv_shape(self.length + steps)), other * n + j)
        self._out("decoder", "hidden", hidden, [1, steps, d.hidden_size])
        self._run("decoder")
        self.length += steps
        self.side = other
        self._last_ptr = hidden.ptr(steps - 1)

    def _token_scores(self) -> np.ndarray:
        """Next-token log-probabilities at the last fed token (LM head mixed with the copy head)."""
        d, words = self.dims, self._words
        self._last_state("token_scores", "state")
        self._in("token_scores", "copy_keys", self.copy_keys, [1, words, d.copy_dim])
        self._host_input("token_scores", "instr_ids", self._instr_ids)
        self._host_input("token_scores", "instr_mask", self._instr_mask)
        self._out("token_scores", "log_probs", self.log_probs, [1, d.vocab_size])
        self._run("token_scores")
        return self.log_probs.read()[0]

    # --- Runtime -----------------------------------------------------------------------------
    def encode_image(self, pixel_values: np.ndarray) -> None:
        d = self.dims
        self._host_input("vision", "pixel_values", np.asarray(pixel_values, dtype=self.dtype))
        self._out("vision", "image_embeds", self.embeds, [1, d.num_patches, d.hidden_size])
        self._run("vision")
        self.length, self.side = 0, 0
        self._keys_ready = False

    def prefill(self, input_ids: np.ndarray) -> np.ndarray:
        d, n = self.dims, len(input_ids)
        p = d.num_patches
        self._embed(input_ids, np.full(n, -1), self.embeds, p)
        self._decode(self.embeds, 0, p + n, self.hidden)
        # the copy head attends over the instruction words (the prompt minus its final <sep>); with
        # none, one masked dummy position keeps every shape non-empty
        words = n - 1
        self._words = max(words, 1)
        self._instr_ids = np.asarray(input_ids[: self._words], dtype=np.int64).reshape(1, -1)
        self._instr_mask = np.full((1, self._words), 1.0 if words else 0.0, dtype=np.float32)
        self._in("copy_keys", "instr_states", self.hidden, [1, self._words, d.hidden_size], p)
        self._out("copy_keys", "copy_keys", self.copy_keys, [1, self._words, d.copy_dim])
        self._run("copy_keys")
        return self._token_scores()

    def step(self, token_id: int, feedback: int) -> np.ndarray:
        self._embed(np.array([token_id]), np.array([feedback]), self.step_embeds, 0)
        self._decode(self.step_embeds, 0, 1, self.step_hidden)
        return self._token_scores()

    def _pointer_keys(self) -> None:
        """The image-side projections and the patch classifier, once per request (after prefill)."""
        d = self.dims
        if not self._keys_ready:
            self._in("pointer_keys", "image_states", self.hidden, [1, d.num_patches, d.hidden_size])
            self._out("pointer_keys", "keys", self.keys, [1, d.num_patches, d.pointer_dim])
            self._out("pointer_keys", "offset_keys", self.offset_keys, [1, d.num_patches, d.offset_hidden])
            self._out("pointer_keys", "patch_log_probs", self.class_log_probs,
                      [1, d.num_patches, d.num_patch_classes])
            self._run("pointer_keys")
            self._keys_ready = True

    def patch_log_probs(self) -> np.ndarray:
        self._pointer_keys()
        return self.class_log_probs.read()

    def pointer_scores(self) -> np.ndarray:
        d = self.dims
        self._pointer_keys()
        self._last_state("pointer_scores", "loc_states")
        self._in("pointer_scores", "keys", self.keys, [1, d.num_patches, d.pointer_dim])
        self._out("pointer_scores", "pointer_logits", self.pointer_logits, [1, 1, d.num_patches])
        self._run("pointer_scores")
        return self.pointer_logits.read()[0]

    def pointer_offsets(self, patches: list[int]) -> np.ndarray:
        d, m = self.dims, len(patches)
        self._last_state("pointer_offsets", "loc_states")
        self._in("pointer_offsets", "offset_keys", self.offset_keys, [1, d.num_patches, d.offset_hidden])
        self._host_input("pointer_offsets", "patches", np.asarray(patches, dtype=np.int64).reshape(1, 1, m))
        self._out("pointer_offsets", "offsets", self.offsets, [1, 1, m, 2])
        self._run("pointer_offsets")
        return self.offsets.read()[:m]

    def _last_state(self, graph: str, name: str) -> None:
        """Bind the last fed token's hidden state (for the token head, or a `<loc>`'s for the pointer)."""
        self.bindings[graph].bind_input(name, self.device, self.device_id, self.dtype,
                                        [1, 1, self.dims.hidden_size], self._last_ptr)
