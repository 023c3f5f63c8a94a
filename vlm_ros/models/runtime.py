"""The small interface the one greedy loop (`vlm_ros.models.decoding.decode_program`) drives.

A runtime holds one request's state (image states, KV cache) on its device; only next-token
scores and pointer scores cross to the host, because the loop's choices (argmax, `<loc>` handling)
are tiny and branchy. Batch size is 1: the node grounds one frame at a time. PyTorch
(`models.torch_runtime`), ONNX Runtime and TensorRT (`vlm_ros.engines`) implement it, so every
backend makes its choices in the same Python code.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class LoopDims(Protocol):
    """The model sizes the loop reads (`engines.manifest.ModelDims` has these and more)."""

    patch_size: int  # [px]
    loc_token_id: int
    eos_token_id: int
    max_program_tokens: int

    @property
    def grid_size(self) -> int: ...


class Runtime(Protocol):
    dims: LoopDims
    name: str  # "torch-cpu", "onnxruntime-cpu", "tensorrt-fp16", ...

    def encode_image(self, pixel_values: np.ndarray) -> None:
        """pixel_values [1, 3, S, S] float32; starts a new request."""

    def prefill(self, input_ids: np.ndarray) -> np.ndarray:
        """Prompt ids [n] (instruction words, then <sep>) after the image -> next-token scores [V]
        (float32 log-probabilities of the LM head mixed with the copy head; argmax picks the token)."""

    def step(self, token_id: int, feedback: int) -> np.ndarray:
        """Feed one token (feedback: patch of the preceding `<loc>`, or -1) -> next-token scores [V]."""

    def patch_log_probs(self) -> np.ndarray:
        """The patch classifier's log-probabilities [P, C] float32 over this request's image states
        (after prefill): the pointer prior's columns and, exponentiated, `class_probs`."""

    def pointer_scores(self) -> np.ndarray:
        """Pointer logits over patches [P] for the last fed token (a `<loc>`), without the prior."""

    def pointer_offsets(self, patches: list[int]) -> np.ndarray:
        """Sub-patch offsets [M, 2] (patch units) at `patches`, for the last fed token."""
