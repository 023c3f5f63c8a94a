"""A lean KV-cached forward of the Llama decoder, sharing its weights (same maths as LlamaModel).

transformers' generic forward costs several ms per token in Python overhead on a CPU; this path
runs a decode step in about 1 ms. The cache is explicit: preallocated key/value tensors
[layers, B, heads, max_len, head_dim] plus a length, the layout the ONNX export uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb


class KVCache:
    def __init__(self, layers: int, batch: int, heads: int, max_len: int, head_dim: int,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        self.keys = torch.zeros(layers, batch, heads, max_len, head_dim, dtype=dtype, device=device)
        self.values = torch.zeros_like(self.keys)
        self.length = 0


class KVDecoder(nn.Module):
    """Wraps a LlamaModel: forward(embeds [B, T, D], cache) -> last hidden states [B, T, D]."""

    def __init__(self, llama: nn.Module, max_len: int):
        super().__init__()
        self.llama = llama
        cfg = llama.config
        self.heads, self.kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.max_len = max_len
        positions = torch.arange(max_len)[None]  # [1, max_len]
        probe = torch.zeros(1, 1, cfg.hidden_size, dtype=next(llama.parameters()).dtype)
        with torch.no_grad():
            cos, sin = llama.rotary_emb(probe, positions)  # [1, max_len, head_dim]
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def new_cache(self, batch: int = 1) -> KVCache:
        return KVCache(len(self.llama.layers), batch, self.kv_heads, self.max_len, self.head_dim,
                       self.cos.dtype, self.cos.device)

    def forward(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        b, t, _ = x.shape
        start, end = cache.length, cache.length + t
        if end > self.max_len:
            raise ValueError(f"sequence of {end} tokens exceeds the cache of {self.max_len}")
        cos, sin = self.cos[:, start:end], self.sin[:, start:end]  # [1, T, hd]
        mask = None
        if t > 1 and start > 0:  # a chunk after a prefix: causal within the chunk, all of the prefix
            mask = torch.ones(t, end, dtype=torch.bool, device=x.device).tril(diagonal=start)
        for i, layer in enumerate(self.llama.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)  # [B, T, D]
            q = attn.q_proj(h).view(b, t, -1, self.head_dim).transpose(1, 2)  # [B, H, T, hd]
            k = attn.k_proj(h).view(b, t, -1, self.head_dim).transpose(1, 2)  # [B, Hkv, T, hd]
            v = attn.v_proj(h).view(b, t, -1, self.head_dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            cache.keys[i, :, :, start:end] = k
            cache.values[i, :, :, start:end] = v
            keys, values = cache.keys[i, :, :, :end], cache.values[i, :, :, :end]  # [B, Hkv, S, hd]
            if self.kv_heads != self.heads:
                keys = keys.repeat_interleave(self.heads // self.kv_heads, dim=1)
                values = values.repeat_interleave(self.heads // self.kv_heads, dim=1)
            o = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, is_causal=t > 1 and start == 0,
                                               scale=attn.scaling)  # [B, H, T, hd]
            x = x + attn.o_proj(o.transpose(1, 2).reshape(b, t, -1))
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        cache.length = end
        return self.llama.norm(x)
