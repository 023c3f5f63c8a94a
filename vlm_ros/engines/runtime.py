"""The one interface the greedy loop drives, whatever runs the graphs.

A runtime holds one request's state (image states, KV cache) on its device; only next-token
scores and pointer scores cross to the host, because the loop's choices (argmax, `<loc>` handling) are
tiny and branchy. Batch size is 1: the node grounds one frame at a time.

`TorchRuntime` runs the PyTorch model itself and is the reference the other runtimes are
compared with, step by step, in the parity checks.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from vlm_ros.engines.manifest import ModelDims


class Runtime(Protocol):
    dims: ModelDims
    name: str  # "torch", "onnxruntime-cpu", "tensorrt-fp16", ...

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


class TorchRuntime:
    """The PyTorch model behind the Runtime interface (reference for parity)."""

    def __init__(self, model, device: str = "cpu"):
        from vlm_ros.engines.export import model_dims

        self.model = model.eval().to(device)
        self.device = torch.device(device)
        self.dims = model_dims(model)
        self.name = f"torch-{device}"
        self._image = self._image_states = self._cache = self._last = None
        self._instr = None  # (instruction states, ids, mask) for the copy head

    @torch.inference_mode()
    def encode_image(self, pixel_values: np.ndarray) -> None:
        pixels = torch.as_tensor(pixel_values, device=self.device, dtype=self.model.dtype)
        self._image = self.model.encode_image(pixels)  # [1, P, D]
        self._cache = None

    @torch.inference_mode()
    def prefill(self, input_ids: np.ndarray) -> np.ndarray:
        ids = torch.as_tensor(input_ids, device=self.device)[None]  # [1, n]
        embeds = torch.cat([self._image, self.model.embed_tokens(ids, torch.full_like(ids, -1))], dim=1)
        hidden, self._cache = self.model.decode(embeds, use_cache=True)  # [1, P + n, D]
        p, words = self.dims.num_patches, ids.shape[1] - 1  # the words before <sep>
        self._image_states = hidden[:, :p]
        self._instr = (hidden[:, p:p + words], ids[:, :words], torch.ones_like(ids[:, :words], dtype=torch.bool))
        return self._scores(hidden)

    @torch.inference_mode()
    def step(self, token_id: int, feedback: int) -> np.ndarray:
        ids = torch.tensor([[token_id]], device=self.device)
        embeds = self.model.embed_tokens(ids, torch.tensor([[feedback]], device=self.device))
        hidden, self._cache = self.model.decode(embeds, self._cache, use_cache=True)
        return self._scores(hidden)

    @torch.inference_mode()
    def patch_log_probs(self) -> np.ndarray:
        logits = self.model.patch_classifier(self._image_states[0]).float()  # [P, C]
        return torch.log_softmax(logits, dim=-1).cpu().numpy()

    @torch.inference_mode()
    def pointer_scores(self) -> np.ndarray:
        logits = self.model.pointer.scores(self._last[:, None], self._image_states)  # [1, 1, P]
        return logits[0, 0].float().cpu().numpy()

    @torch.inference_mode()
    def pointer_offsets(self, patches: list[int]) -> np.ndarray:
        index = torch.tensor([[patches]], device=self.device)  # [1, 1, M]
        offsets = self.model.pointer.offsets_at(self._last[:, None], self._image_states, index)  # [1, 1, M, 2]
        return offsets[0, 0].float().cpu().numpy()

    def _scores(self, hidden: torch.Tensor) -> np.ndarray:
        """As the model's loop scores the next token: `copy_head` over the LM head's logits."""
        self._last = hidden[:, -1]  # [1, D]
        state = self._last[:, None]  # [1, 1, D]
        log_probs = self.model.copy_head(state, self.model.lm_head(state), *self._instr)  # [1, 1, V]
        return log_probs[0, -1].float().cpu().numpy()
