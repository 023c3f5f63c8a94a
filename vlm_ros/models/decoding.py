"""Greedy decoding with a KV cache, and the pointer at every `<loc>`.

Stages (timed by the grounder): vision (encode_image), prefill (image prefix + instruction +
`<sep>` through the decoder), decode (one token per step until `<eos>`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from vlm_ros.models.kv_decoder import KVDecoder
from vlm_ros.models.labels import label_class
from vlm_ros.models.program_grammar import allowed_next
from vlm_ros.models.tabletop_vlm import TabletopVlm


def kv_decoder(model: TabletopVlm) -> KVDecoder:
    """The model's cached decoder, built once and kept on the model."""
    dec = model.__dict__.get("_kv_decoder")
    if dec is None:
        dec = KVDecoder(model.model.language_model, model.config.text_config.max_position_embeddings)
        model.__dict__["_kv_decoder"] = dec
    return dec


@dataclass
class DecodedProgram:
    token_ids: list[int] = field(default_factory=list)  # program tokens, <eos> excluded
    points: list[tuple[float, float]] = field(default_factory=list)  # model coords [0, S), one per <loc>
    confidences: list[float] = field(default_factory=list)  # pointer probability of the chosen patch
    patches: list[int] = field(default_factory=list)  # chosen patch per <loc>
    class_probs: torch.Tensor | None = None  # [P, C] patch classifier probabilities (models.labels)


def step_label(words: list[str] | None, token_ids: list[int], loc_token_id: int) -> str:
    """The label of the step a `<loc>` (the last of token_ids) ends: its words after the op."""
    if not words:
        return ""
    step_start = max((i for i, t in enumerate(token_ids[:-1]) if t == loc_token_id), default=-1) + 1
    return " ".join(words[t] for t in token_ids[step_start + 1:-1])


def banned_patches(centres: list[tuple[float, float]], picked: list[tuple[float, float]], radius: float) -> list[int]:
    """Patches whose centre lies closer than `radius` (model px) to an earlier pick's point."""
    return [i for i, (cx, cy) in enumerate(centres)
            if any((cx - x) ** 2 + (cy - y) ** 2 < radius**2 for x, y in picked)]


def point_from_pointer(model: TabletopVlm, loc_state: torch.Tensor, image_states: torch.Tensor,
                       banned: list[int], label_class: int = -1) -> tuple[tuple[float, float], float, int]:
    """loc_state [1, 1, D], image_states [1, P, D] -> (model point, confidence, patch).

    label_class: patch class of the step's label (models.labels), adding the classifier's prior.

    The point is the probability-weighted average of the absolute points that the chosen patch and
    its 3x3 neighbours predict (each regresses the same point from its own position).
    """
    cfg = model.config
    g, ps = cfg.grid_size, cfg.vision_config.patch_size
    prior = model.class_prior(image_states, torch.tensor([[label_class]]))  # [1, 1, P]
    logits = (model.pointer.scores(loc_state, image_states) + prior)[0, 0]  # [P]
    if banned and len(set(banned)) < logits.numel():  # every patch banned: no point would be left
        logits = logits.clone()
        logits[banned] = float("-inf")
    probs = logits.softmax(-1)  # [P]
    best = int(probs.argmax())
    r, c = divmod(best, g)
    neigh = [(rr, cc) for rr in (r - 1, r, r + 1) for cc in (c - 1, c, c + 1) if 0 <= rr < g and 0 <= cc < g]
    idx = torch.tensor([[[rr * g + cc for rr, cc in neigh]]])  # [1, 1, M]
    off = model.pointer.offsets_at(loc_state, image_states, idx)[0, 0]  # [M, 2]
    w = probs[idx[0, 0]]  # [M]
    w = w / w.sum()
    xs = torch.tensor([cc for _, cc in neigh], dtype=off.dtype) + off[:, 0]
    ys = torch.tensor([rr for rr, _ in neigh], dtype=off.dtype) + off[:, 1]
    return (float((w * xs).sum() * ps), float((w * ys).sum() * ps)), float(probs[best]), best


@torch.no_grad()
def greedy_decode(model: TabletopVlm, pixel_values: torch.Tensor, prompt_ids: list[int], use_cache: bool = True,
                  pick_token_id: int | None = None, timings: dict[str, float] | None = None,
                  bf16_prefill: bool = False, words: list[str] | None = None, ban_radius: float = 1.25,
                  on_eos: Callable[[DecodedProgram], list[int] | None] | None = None,
                  constrained: bool = True, allow_refusal: bool = True) -> DecodedProgram:
    """Decode one program. prompt_ids: instruction ids followed by <sep>.

    pick_token_id: when given, a pick's `<loc>` never chooses a patch whose centre lies within
    ban_radius patches of an earlier pick's point (one block is never picked twice).
    on_eos: called when the model ends the program; tokens it returns are forced and decoding goes on.
    constrained (needs words): mask tokens the program grammar (models.program_grammar) forbids;
    allow_refusal=False also masks `refuse`, for a second decode when perception overrules it.
    use_cache=False recomputes the whole sequence each step (the reference for tests).
    words: the tokenizer's id -> token list, to read each step's label for the pointer's class prior.
    bf16_prefill runs vision and prefill under bfloat16 autocast (faster on CPUs with AVX512-BF16);
    decode steps stay float32.
    """
    import time

    cfg = model.config
    t0 = time.perf_counter()
    device = pixel_values.device.type
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=bf16_prefill)
    with autocast:
        image = model.encode_image(pixel_values)  # [1, P, D]
    t1 = time.perf_counter()
    n_img = image.shape[1]
    ids = torch.tensor([prompt_ids], dtype=torch.long)
    prompt = model.embed_tokens(ids)  # [1, T, D]
    prefix = torch.cat([image, prompt], dim=1)  # [1, P + T, D]
    with autocast:
        if use_cache:
            decoder = kv_decoder(model)
            cache = decoder.new_cache()
            hidden = decoder(prefix, cache)  # [1, P + T, D]
        else:
            hidden, _ = model.decode(prefix)
    hidden, prefix = hidden.float(), prefix.float()
    image_states = hidden[:, :n_img]  # [1, P, D]
    n_words = len(prompt_ids) - 1  # instruction words before <sep>
    instr_states = hidden[:, n_img:n_img + n_words]  # [1, S, D]
    instr_ids = ids[:, :n_words]  # [1, S]
    instr_mask = torch.ones_like(instr_ids, dtype=torch.bool)

    word_ids = {w: i for i, w in enumerate(words)} if words and constrained else None

    def next_token(state: torch.Tensor) -> int:
        logp = model.copy_head(state, model.lm_head(state), instr_states, instr_ids, instr_mask)[0, -1]  # [V]
        if word_ids is not None:  # only tokens the program grammar allows here
            prefix = [words[t] for t in out.token_ids]
            allowed = [word_ids[w] for w in allowed_next(prefix, allow_refusal) if w in word_ids]
            if allowed:
                mask = torch.full_like(logp, float("-inf"))
                mask[allowed] = 0.0
                logp = logp + mask
        return int(logp.argmax())

    last = hidden[:, -1:]  # [1, 1, D]
    t2 = time.perf_counter()
    out = DecodedProgram()
    out.class_probs = torch.softmax(model.patch_classifier(image_states[0]).float(), dim=-1)  # [P, C]
    seq_embeds = [prefix]
    feedback = -1
    op_is_pick, picked_points = False, []
    forced: list[int] = []
    g, ps = cfg.grid_size, cfg.vision_config.patch_size
    centres = [((i % g + 0.5) * ps, (i // g + 0.5) * ps) for i in range(g * g)]
    for _ in range(cfg.max_program_tokens):
        token = forced.pop(0) if forced else next_token(last)
        if token == cfg.eos_token_id:
            forced = list(on_eos(out) or []) if on_eos is not None else []
            if not forced:
                break
            token = forced.pop(0)
        out.token_ids.append(token)
        if len(out.token_ids) == 1 or out.token_ids[-2] == cfg.loc_token_id:  # a step's first token: its op
            op_is_pick = pick_token_id is not None and token == pick_token_id
        fb = torch.tensor([[feedback]])
        embed = model.embed_tokens(torch.tensor([[token]]), fb)  # [1, 1, D]
        feedback = -1
        if use_cache:
            last = decoder(embed, cache)
        else:
            seq_embeds.append(embed)
            full, _ = model.decode(torch.cat(seq_embeds, dim=1))
            last = full[:, -1:]
        if token == cfg.loc_token_id:
            label = step_label(words, out.token_ids, cfg.loc_token_id)
            banned = banned_patches(centres, picked_points, ban_radius * ps) if op_is_pick else []
            point, conf, patch = point_from_pointer(model, last, image_states, banned, label_class(label))
            out.points.append(point)
            out.confidences.append(conf)
            out.patches.append(patch)
            feedback = patch
            if op_is_pick:
                picked_points.append(point)
    if timings is not None:
        timings.update(vision=(t1 - t0) * 1e3, prefill=(t2 - t1) * 1e3, decode=(time.perf_counter() - t2) * 1e3)
    return out
