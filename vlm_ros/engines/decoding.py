"""Greedy decoding over a Runtime: the same choices as `vlm_ros.models.decoding.greedy_decode`,
on numpy logits, so ONNX Runtime and TensorRT need no PyTorch model.

The model's loop is the reference; `tests/test_engines_parity.py` holds this one to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from vlm_ros.engines.runtime import Runtime
from vlm_ros.models.decoding import DecodedProgram, banned_patches, step_label
from vlm_ros.models.labels import label_class
from vlm_ros.models.program_grammar import allowed_next


def choose_patch(logits: np.ndarray, grid: int, banned: list[int]) -> tuple[np.ndarray, int, list[int]]:
    """Pointer logits [P] -> (probabilities [P], chosen patch, the patch and its in-grid 3x3
    neighbours), as the model's `point_from_pointer` chooses them."""
    logits = logits.astype(np.float64)
    if banned and len(set(banned)) < logits.size:  # every patch banned: no point would be left
        logits = logits.copy()
        logits[banned] = -np.inf
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    best = int(probs.argmax())
    r, c = divmod(best, grid)
    neigh = [rr * grid + cc for rr in (r - 1, r, r + 1) for cc in (c - 1, c, c + 1)
             if 0 <= rr < grid and 0 <= cc < grid]
    return probs, best, neigh


def point_from_offsets(probs: np.ndarray, neigh: list[int], offsets: np.ndarray, grid: int,
                       patch_size: int) -> tuple[float, float]:
    """The probability-weighted average of the absolute points that the chosen patch and its
    neighbours predict (offsets [M, 2] at `neigh`), in model pixels."""
    idx = np.asarray(neigh)
    w = probs[idx] / probs[idx].sum()
    xs = idx % grid + offsets[:, 0]
    ys = idx // grid + offsets[:, 1]
    return float((w * xs).sum() * patch_size), float((w * ys).sum() * patch_size)


def greedy_decode(runtime: Runtime, pixel_values: np.ndarray, prompt_ids: list[int],
                  pick_token_id: int | None = None, timings: dict[str, float] | None = None,
                  words: list[str] | None = None, ban_radius: float = 1.25,
                  on_eos: Callable[[DecodedProgram], list[int] | None] | None = None,
                  constrained: bool = True, allow_refusal: bool = True) -> DecodedProgram:
    """Decode one program: prompt_ids are the instruction ids followed by <sep>.

    The arguments mean what they mean for `vlm_ros.models.decoding.greedy_decode`:
    pick_token_id: a pick's `<loc>` never chooses a patch whose centre lies within ban_radius
    patches of an earlier pick's point. words: the tokenizer's id -> token list, for the grammar
    mask (constrained) and each `<loc>`'s label, whose patch-classifier column is added to the
    pointer logits (the pointer prior); allow_refusal=False masks `refuse`. on_eos: called when
    the model ends the program; tokens it returns are forced and decoding goes on. timings gets
    vision, prefill and decode in ms.
    """
    d = runtime.dims
    t0 = time.perf_counter()
    runtime.encode_image(pixel_values)
    t1 = time.perf_counter()
    scores = runtime.prefill(np.asarray(prompt_ids, dtype=np.int64))  # next-token log-probabilities [V]
    t2 = time.perf_counter()
    out = DecodedProgram()
    class_log_probs = runtime.patch_log_probs()  # [P, C] float32
    out.class_probs = torch.from_numpy(np.exp(class_log_probs))  # [P, C]
    word_ids = {w: i for i, w in enumerate(words)} if words and constrained else None

    def next_token(scores: np.ndarray) -> int:
        if word_ids is not None:  # only tokens the program grammar allows here
            prefix = [words[t] for t in out.token_ids]
            allowed = [word_ids[w] for w in allowed_next(prefix, allow_refusal) if w in word_ids]
            if allowed:
                masked = np.full_like(scores, -np.inf)
                masked[allowed] = scores[allowed]
                return int(masked.argmax())
        return int(scores.argmax())

    g, ps = d.grid_size, d.patch_size
    centres = [((i % g + 0.5) * ps, (i // g + 0.5) * ps) for i in range(g * g)]
    feedback = -1
    op_is_pick, picked_points = False, []
    forced: list[int] = []
    for _ in range(d.max_program_tokens):
        token = forced.pop(0) if forced else next_token(scores)
        if token == d.eos_token_id:
            forced = list(on_eos(out) or []) if on_eos is not None else []
            if not forced:
                break
            token = forced.pop(0)
        out.token_ids.append(token)
        if len(out.token_ids) == 1 or out.token_ids[-2] == d.loc_token_id:  # a step's first token: its op
            op_is_pick = pick_token_id is not None and token == pick_token_id
        scores = runtime.step(token, feedback)
        feedback = -1
        if token == d.loc_token_id:
            logits = runtime.pointer_scores()  # [P]
            cls = label_class(step_label(words, out.token_ids, d.loc_token_id))
            if cls >= 0:  # the pointer prior: log P(label's class | patch)
                logits = logits.astype(np.float32) + class_log_probs[:, cls]
            banned = banned_patches(centres, picked_points, ban_radius * ps) if op_is_pick else []
            probs, patch, neigh = choose_patch(logits, g, banned)
            offsets = runtime.pointer_offsets(neigh)  # [M, 2]
            point = point_from_offsets(probs, neigh, offsets, g, ps)
            out.points.append(point)
            out.confidences.append(float(probs[patch]))
            out.patches.append(patch)
            feedback = patch
            if op_is_pick:
                picked_points.append(point)
    if timings is not None:
        timings.update(vision=(t1 - t0) * 1e3, prefill=(t2 - t1) * 1e3, decode=(time.perf_counter() - t2) * 1e3)
    return out
