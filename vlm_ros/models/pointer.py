"""Pointer head: where in the image does a `<loc>` token point?

Scores the decoder's own image-token hidden states against the hidden state at a `<loc>`
position (scaled dot product → softmax over patches) and regresses, for every patch, the
sub-patch offset of the point in patch units. Offsets are unbounded so that a patch next to
the right one still predicts the right point (training supervises a 3x3 neighbourhood).

Kept a separate module with a plain forward so it exports to ONNX on its own.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class PointerHead(nn.Module):
    def __init__(self, hidden_size: int, pointer_dim: int, offset_hidden: int):
        super().__init__()
        self.query = nn.Linear(hidden_size, pointer_dim)
        self.key = nn.Linear(hidden_size, pointer_dim)
        self.offset_query = nn.Linear(hidden_size, offset_hidden)
        self.offset_key = nn.Linear(hidden_size, offset_hidden)
        self.offset_out = nn.Sequential(nn.GELU(), nn.Linear(offset_hidden, offset_hidden), nn.GELU(),
                                        nn.Linear(offset_hidden, 2))
        self.scale = 1.0 / math.sqrt(pointer_dim)

    def forward(self, loc_states: torch.Tensor, image_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """loc_states [B, L, D], image_states [B, P, D] -> logits [B, L, P], offsets [B, L, P, 2].

        offsets are (dx, dy) of the point from the patch's top-left corner, in patch units.
        """
        logits = self.scores(loc_states, image_states)  # [B, L, P]
        h = self.offset_query(loc_states)[:, :, None, :] + self.offset_key(image_states)[:, None, :, :]  # [B, L, P, H]
        offsets = self.offset_out(h)  # [B, L, P, 2]
        return logits, offsets

    def scores(self, loc_states: torch.Tensor, image_states: torch.Tensor) -> torch.Tensor:
        """[B, L, D], [B, P, D] -> pointer logits [B, L, P]."""
        q = self.query(loc_states)  # [B, L, K]
        k = self.key(image_states)  # [B, P, K]
        return torch.einsum("blk,bpk->blp", q, k) * self.scale

    def offsets_at(self, loc_states: torch.Tensor, image_states: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        """Offsets at chosen patches only: patches [B, L, M] -> [B, L, M, 2] (cheap, for training)."""
        b, n_loc, m = patches.shape
        keys = self.offset_key(image_states)  # [B, P, H]
        picked = torch.gather(keys, 1, patches.reshape(b, n_loc * m, 1).expand(-1, -1, keys.shape[-1]))  # [B, L*M, H]
        h = self.offset_query(loc_states)[:, :, None, :] + picked.reshape(b, n_loc, m, -1)  # [B, L, M, H]
        return self.offset_out(h)  # [B, L, M, 2]
