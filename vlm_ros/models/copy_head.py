"""Copy head (pointer-generator): lets a program token be copied from the instruction.

Object colours are said in the instruction and repeated in the program; scoring instruction
positions directly teaches that far faster than routing it through attention and the LM head.
The output is a log-probability mixture  g * softmax(lm_logits) + (1 - g) * copy,  where the copy
distribution puts attention mass on the vocabulary ids of the instruction tokens.

A word's key also reads the state of the word after it: the decoder is causal, so "green" in
"the green bowl, then the red bowl" cannot know it names a bowl, nor tell the first clause's bowl
from the second's, until the next word. `key_next` starts at zero (the plain key) so a model
trained without it loads unchanged.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class CopyHead(nn.Module):
    def __init__(self, hidden_size: int, dim: int):
        super().__init__()
        self.query = nn.Linear(hidden_size, dim)
        self.key = nn.Linear(hidden_size, dim)
        self.gate = nn.Linear(hidden_size, 1)
        self.key_next = nn.Parameter(torch.zeros(dim, hidden_size))
        self.scale = 1.0 / math.sqrt(dim)

    def keys(self, instr_states: torch.Tensor, instr_mask: torch.Tensor | None = None) -> torch.Tensor:
        """instr_states [B, S, D] -> keys [B, S, K]: each word's own state and the next word's
        (zero after the last instruction word; instr_mask [B, S] marks the words, None: all are)."""
        following = F.pad(instr_states[:, 1:], (0, 0, 0, 1))  # [B, S, D]
        if instr_mask is not None:
            following = following * F.pad(instr_mask[:, 1:], (0, 1))[..., None].to(following.dtype)
        return self.key(instr_states) + torch.matmul(following, self.key_next.t().to(following.dtype))

    def forward(self, states: torch.Tensor, lm_logits: torch.Tensor, instr_states: torch.Tensor,
                instr_ids: torch.Tensor, instr_mask: torch.Tensor) -> torch.Tensor:
        """states [B, T, D], lm_logits [B, T, V], instr_states [B, S, D], instr_ids [B, S] (long),
        instr_mask [B, S] (bool, True on instruction words) -> log-probabilities [B, T, V]."""
        keys = self.keys(instr_states, instr_mask)  # [B, S, K]
        scores = torch.einsum("btk,bsk->bts", self.query(states), keys) * self.scale  # [B, T, S]
        scores = scores.masked_fill(~instr_mask[:, None, :], float("-inf"))
        attn = torch.softmax(scores.float(), dim=-1).nan_to_num(0.0)  # [B, T, S]
        copy = torch.zeros_like(lm_logits, dtype=attn.dtype)  # [B, T, V]
        copy.scatter_add_(2, instr_ids[:, None, :].expand(-1, attn.shape[1], -1), attn)
        g = torch.sigmoid(self.gate(states).float())  # [B, T, 1]
        mixed = g * torch.softmax(lm_logits.float(), dim=-1) + (1 - g) * copy
        return torch.log(mixed.clamp_min(1e-9))
