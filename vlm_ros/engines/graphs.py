"""The exportable graphs of TabletopVlm, as plain modules over the model's own weights.

Why a separate decoder: `transformers`' Llama keeps its KV cache in Python objects, which do
not trace to ONNX. `DecoderGraph` runs the same layers (same submodules, same rotary, same
eager attention math) with the cache as explicit tensors, so one graph serves prefill (empty
past) and single-token decode. The parity tests hold it to `TabletopVlm.decode`.

KV cache, per layer i: `past_key_i`, `past_value_i` [1, kv_heads, past, head_dim] in, and
`present_key_i`, `present_value_i` [1, kv_heads, past + T, head_dim] out: the past followed by this
call's keys, in the layout attention reads, so the only copy per step is the concatenation
itself. Runtimes keep two preallocated buffers per tensor and swap them each call (the
present of one step is bound as the past of the next). Batch is 1 (one frame at a time), which
also keeps the reshapes static: no shape arithmetic per layer and per step.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.models.llama.modeling_llama import repeat_kv

from vlm_ros.models.tabletop_vlm import TabletopVlm


class VisionGraph(nn.Module):
    """pixel_values [B, 3, S, S] -> image_embeds [B, P, D] (CLIP ViT + projector)."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixel_values)


class EmbedGraph(nn.Module):
    """input_ids, feedback [B, T] int64 -> inputs_embeds [B, T, D]; feedback -1 means none.

    `TabletopVlm.embed_tokens` with `where` in place of `clamp`: ONNX Clip on int64 is not
    something every TensorRT version parses, Where is."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.tokens = model.model.language_model.embed_tokens
        self.loc_feedback = model.loc_feedback

    def forward(self, input_ids: torch.Tensor, feedback: torch.Tensor) -> torch.Tensor:
        embeds = self.tokens(input_ids)  # [B, T, D]
        has = feedback >= 0  # [B, T]
        patch = self.loc_feedback(torch.where(has, feedback, torch.zeros_like(feedback)))  # [B, T, D]
        return embeds + patch * has.unsqueeze(-1).to(embeds.dtype)


# The next-token head: the LM head mixed with the copy head (pointer-generator over the
# instruction words), as `vlm_ros.models.decoding.greedy_decode` scores tokens. The copy keys
# depend only on the instruction's hidden states, so they are computed once per request.
class CopyKeysGraph(nn.Module):
    """instr_states [1, S, D] -> copy_keys [1, S, K] (once per request, after prefill)."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.copy = model.copy_head

    def forward(self, instr_states: torch.Tensor) -> torch.Tensor:
        return self.copy.keys(instr_states)


class TokenScoresGraph(nn.Module):
    """state [1, 1, D], copy_keys [1, S, K], instr_ids [1, S] int64, instr_mask [1, S] float (1 = a word)
    -> log_probs [1, V] (`CopyHead.forward` on the last state).

    The copy distribution is attention @ one-hot(instr_ids) rather than a scatter-add (the same
    sums; a matmul every runtime has), and masked positions are zeroed after the softmax, so a
    prompt without words (one masked dummy position) gives the LM head alone, as in PyTorch."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.lm_head, self.copy = model.lm_head, model.copy_head
        self.vocab = model.config.text_config.vocab_size

    def forward(self, state: torch.Tensor, copy_keys: torch.Tensor, instr_ids: torch.Tensor,
                instr_mask: torch.Tensor) -> torch.Tensor:
        lm_logits = self.lm_head(state)  # [1, 1, V]
        scores = torch.matmul(self.copy.query(state), copy_keys.transpose(1, 2)) * self.copy.scale  # [1, 1, S]
        scores = scores.float() + (instr_mask[:, None, :].float() - 1.0) * 1e4  # exp(-1e4) is 0, even in fp16
        attn = torch.softmax(scores, dim=-1) * instr_mask[:, None, :].float()  # [1, 1, S]
        vocab = torch.arange(self.vocab, device=instr_ids.device)
        one_hot = (instr_ids[:, :, None] == vocab[None, None, :]).float()  # [1, S, V]
        copy = torch.matmul(attn, one_hot)  # [1, 1, V]
        gate = torch.sigmoid(self.copy.gate(state).float())  # [1, 1, 1]
        mixed = gate * torch.softmax(lm_logits.float(), dim=-1) + (1 - gate) * copy
        return torch.log(mixed.clamp_min(1e-9))[:, 0]  # [1, V]


# The pointer head is split in three so that each `<loc>` costs two small matmuls, not a pass over
# every patch: the image-side projections are computed once per request (they depend only on the
# image states), the scores for all patches, and the offset MLP only at the patches the loop asks
# for (the chosen one and its 3x3 neighbours), as `PointerHead.offsets_at` does.
class PointerKeysGraph(nn.Module):
    """image_states [B, P, D] -> keys [B, P, K], offset_keys [B, P, H], patch_log_probs [B, P, C]
    float32 (once per request).

    patch_log_probs is the patch classifier's log-softmax, as `TabletopVlm.class_prior` computes it:
    the loop adds its column for a step's label to the pointer logits (the pointer prior), and its
    exponent is `DecodedProgram.class_probs` (the presence check and the put-all completion)."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.pointer = model.pointer
        self.classifier = model.patch_classifier

    def forward(self, image_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        log_probs = torch.log_softmax(self.classifier(image_states).float(), dim=-1)  # [B, P, C]
        return self.pointer.key(image_states), self.pointer.offset_key(image_states), log_probs


class PointerScoresGraph(nn.Module):
    """loc_states [B, L, D], keys [B, P, K] -> pointer_logits [B, L, P] (`PointerHead.scores`)."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.pointer = model.pointer

    def forward(self, loc_states: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.pointer.query(loc_states), keys.transpose(1, 2)) * self.pointer.scale


class PointerOffsetsGraph(nn.Module):
    """loc_states [B, L, D], offset_keys [B, P, H], patches [B, L, M] int64 -> offsets [B, L, M, 2]
    (`PointerHead.offsets_at`, in patch units from each patch's top-left corner)."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        self.pointer = model.pointer

    def forward(self, loc_states: torch.Tensor, offset_keys: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        b, n_loc, m = patches.shape
        width = offset_keys.shape[-1]
        index = patches.reshape(b, n_loc * m, 1).expand(-1, -1, width)  # [B, L * M, H]
        picked = torch.gather(offset_keys, 1, index).reshape(b, n_loc, m, width)  # [B, L, M, H]
        hidden = self.pointer.offset_query(loc_states)[:, :, None, :] + picked  # [B, L, M, H]
        return self.pointer.offset_out(hidden)  # [B, L, M, 2]


class DecoderGraph(nn.Module):
    """inputs_embeds [1, T, D], then past_key_i, past_value_i [1, Hkv, Tp, hd] for each layer ->
    hidden [1, T, D] (final-norm states: the token head's and the pointer's input), then
    present_key_i, present_value_i [1, Hkv, Tp + T, hd] for each layer."""

    def __init__(self, model: TabletopVlm):
        super().__init__()
        language = model.model.language_model
        rope = language.rotary_emb
        if getattr(rope, "rope_type", "default") != "default":
            raise NotImplementedError(f"export supports default RoPE only, the model uses {rope.rope_type!r}")
        self.layers = language.layers
        self.norm = language.norm
        self.register_buffer("inv_freq", rope.inv_freq.detach().clone(), persistent=False)
        self.rope_scale = float(rope.attention_scaling)

    def forward(self, inputs_embeds: torch.Tensor, *past: torch.Tensor) -> tuple[torch.Tensor, ...]:
        steps, dtype, device = inputs_embeds.shape[1], inputs_embeds.dtype, inputs_embeds.device
        past_len = past[0].shape[2]
        positions = torch.arange(steps, device=device) + past_len  # [T]
        freqs = positions[:, None].float() * self.inv_freq[None, :]  # [T, hd / 2]
        angles = torch.cat((freqs, freqs), dim=-1)  # [T, hd]
        cos = (angles.cos() * self.rope_scale).to(dtype)[None]  # [1, T, hd]
        sin = (angles.sin() * self.rope_scale).to(dtype)[None]
        keys = torch.arange(past_len + steps, device=device)  # [Tp + T]
        allowed = keys[None, :] <= positions[:, None]  # [T, Tp + T] causal over past + new
        bias = torch.where(allowed, torch.zeros((), dtype=dtype), torch.full((), torch.finfo(dtype).min, dtype=dtype))

        hidden = inputs_embeds
        presents = []
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            x = layer.input_layernorm(hidden)
            shape = (1, -1, attn.config.num_attention_heads, attn.head_dim)
            kv_shape = (1, -1, attn.config.num_key_value_heads, attn.head_dim)
            q = attn.q_proj(x).reshape(shape).transpose(1, 2)  # [1, H, T, hd]
            k = attn.k_proj(x).reshape(kv_shape).transpose(1, 2)  # [1, Hkv, T, hd]
            v = attn.v_proj(x).reshape(kv_shape).transpose(1, 2)
            q, k = _rotary(q, cos, sin, attn.head_dim // 2), _rotary(k, cos, sin, attn.head_dim // 2)
            k_all = torch.cat((past[2 * i], k), dim=2)  # [1, Hkv, Tp + T, hd]
            v_all = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k_all, v_all]
            k_rep = repeat_kv(k_all, attn.num_key_value_groups)  # [1, H, Tp + T, hd]
            v_rep = repeat_kv(v_all, attn.num_key_value_groups)
            scores = torch.matmul(q, k_rep.transpose(2, 3)) * attn.scaling + bias  # [1, H, T, Tp + T]
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(dtype)
            out = torch.matmul(probs, v_rep).transpose(1, 2).reshape(1, -1, shape[2] * attn.head_dim)  # [1, T, H*hd]
            hidden = hidden + attn.o_proj(out)
            hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
        return (self.norm(hidden), *presents)  # [1, T, D], presents


def _rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, half: int) -> torch.Tensor:
    """transformers' `apply_rotary_pos_emb` for one tensor, with the half split at a constant
    index: theirs reads it from the shape, which traces to shape arithmetic in every layer."""
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos[:, None] + rotated * sin[:, None]  # cos, sin [1, T, hd] -> [1, 1, T, hd]


def empty_past(model: TabletopVlm, length: int = 0, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """past_key_0, past_value_0, ... of `length` positions (zeros), in the layout above."""
    text = model.config.text_config
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    shape = (1, text.num_key_value_heads, length, head_dim)
    return [torch.zeros(shape, dtype=dtype) for _ in range(2 * text.num_hidden_layers)]


def kv_names(layers: int, kind: str) -> list[str]:
    """["{kind}_key_0", "{kind}_value_0", ...]: kind is "past" or "present"."""
    return [f"{kind}_{part}_{i}" for i in range(layers) for part in ("key", "value")]
