"""The PyTorch model behind the Runtime interface: the torch backend and the parity reference.

Cached decoding runs the lean `KVDecoder` (about 1 ms a step on a CPU); `use_cache=False`
recomputes the whole sequence every step, the reference the cached path is tested against.
`bf16` runs vision and prefill under bfloat16 autocast (faster on CPUs with AVX512-BF16);
decode steps and every head stay float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vlm_ros.models.kv_decoder import KVCache, KVDecoder
from vlm_ros.models.tabletop_vlm import TabletopVlm


@dataclass
class TorchDims:
    """What the loop reads of the model config (engines.manifest.ModelDims has the full set)."""

    patch_size: int
    grid_size: int
    loc_token_id: int
    eos_token_id: int
    max_program_tokens: int
    num_patches: int


def torch_dims(model: TabletopVlm) -> TorchDims:
    cfg = model.config
    return TorchDims(patch_size=cfg.vision_config.patch_size, grid_size=cfg.grid_size,
                     loc_token_id=cfg.loc_token_id, eos_token_id=cfg.eos_token_id,
                     max_program_tokens=cfg.max_program_tokens, num_patches=cfg.num_patches)


def kv_decoder(model: TabletopVlm) -> KVDecoder:
    """The model's cached decoder, built once per device and dtype and kept on the model."""
    param = next(model.parameters())
    key = (param.device, param.dtype)
    cached = model.__dict__.get("_kv_decoder")
    if cached is None or cached[0] != key:
        dec = KVDecoder(model.model.language_model, model.config.text_config.max_position_embeddings)
        cached = (key, dec.to(param.device))
        model.__dict__["_kv_decoder"] = cached
    return cached[1]


class TorchRuntime:
    """Implements vlm_ros.models.runtime.Runtime with the PyTorch model."""

    def __init__(self, model: TabletopVlm, device: str | torch.device = "cpu", use_cache: bool = True,
                 bf16: bool = False):
        self.device = torch.device(device)
        self.model = model.eval().to(self.device)
        self.dims = torch_dims(model)
        self.name = f"torch-{self.device.type}"
        self.use_cache = use_cache
        self._autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16)
        self._image = self._image_states = self._last = None
        self._cache: KVCache | None = None
        self._sequence: list[torch.Tensor] = []  # uncached: every embedding so far, recomputed each step
        self._instr = None  # (instruction states, ids, mask) for the copy head

    @torch.inference_mode()
    def encode_image(self, pixel_values) -> None:
        pixels = torch.as_tensor(pixel_values, device=self.device, dtype=self.model.dtype)
        with self._autocast:
            self._image = self.model.encode_image(pixels)  # [1, P, D]
        self._cache, self._sequence = None, []

    @torch.inference_mode()
    def prefill(self, input_ids: np.ndarray) -> np.ndarray:
        ids = torch.as_tensor(input_ids, device=self.device, dtype=torch.long)[None]  # [1, n]
        prefix = torch.cat([self._image, self.model.embed_tokens(ids)], dim=1)  # [1, P + n, D]
        with self._autocast:
            hidden = self._forward(prefix, first=True)  # [1, P + n, D]
        hidden = hidden.to(self.model.dtype)  # bfloat16 autocast ends here
        p, words = self._image.shape[1], ids.shape[1] - 1  # the words before <sep>
        self._image_states = hidden[:, :p]  # [1, P, D]
        self._instr = (hidden[:, p:p + words], ids[:, :words], torch.ones_like(ids[:, :words], dtype=torch.bool))
        return self._scores(hidden)

    @torch.inference_mode()
    def step(self, token_id: int, feedback: int) -> np.ndarray:
        ids = torch.tensor([[token_id]], device=self.device)
        embeds = self.model.embed_tokens(ids, torch.tensor([[feedback]], device=self.device))  # [1, 1, D]
        return self._scores(self._forward(embeds, first=False))

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

    def _forward(self, embeds: torch.Tensor, first: bool) -> torch.Tensor:
        """embeds [1, T, D] appended to the sequence -> their last-layer states [1, T, D]."""
        if self.use_cache:
            decoder = kv_decoder(self.model)
            if first:
                self._cache = decoder.new_cache()
            return decoder(embeds, self._cache)
        if first:
            self._sequence = []
        self._sequence.append(embeds.to(self.model.dtype))
        full, _ = self.model.decode(torch.cat(self._sequence, dim=1))
        return full[:, -embeds.shape[1]:]

    def _scores(self, hidden: torch.Tensor) -> np.ndarray:
        """Next-token log-probabilities: `copy_head` over the LM head's logits at the last state."""
        self._last = hidden[:, -1]  # [1, D]
        state = self._last[:, None]  # [1, 1, D]
        log_probs = self.model.copy_head(state, self.model.lm_head(state), *self._instr)  # [1, 1, V]
        return log_probs[0, -1].float().cpu().numpy()
