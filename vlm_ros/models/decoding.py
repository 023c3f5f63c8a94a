"""The one greedy decoding loop, over any `Runtime`, and the pointer at every `<loc>`.

Stages (timed): vision (encode_image), prefill (image prefix + instruction + `<sep>` through the
decoder), decode (one token per step until `<eos>`). PyTorch, ONNX Runtime and TensorRT run the
graphs; this loop makes every choice (grammar mask, argmax, pointer prior, pick bans, `<loc>`
feedback) on host numpy arrays, so all backends choose alike by construction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from vlm_ros.models.labels import label_class
from vlm_ros.models.program_grammar import allowed_next
from vlm_ros.models.runtime import Runtime
from vlm_ros.models.tabletop_vlm import TabletopVlm
from vlm_ros.models.torch_runtime import TorchRuntime, kv_decoder

__all__ = ["DecodedProgram", "banned_patches", "choose_patch", "decode_program", "greedy_decode", "kv_decoder",
           "point_from_offsets", "step_label"]


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


def choose_patch(logits: np.ndarray, grid: int, banned: list[int]) -> tuple[np.ndarray, int, list[int]]:
    """Pointer logits [P] -> (probabilities [P], chosen patch, the patch and its in-grid 3x3 neighbours)."""
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
    neighbours predict (offsets [M, 2] at `neigh`; each regresses the same point from its own
    position), in model pixels."""
    idx = np.asarray(neigh)
    w = probs[idx] / probs[idx].sum()
    xs = idx % grid + offsets[:, 0]
    ys = idx // grid + offsets[:, 1]
    return float((w * xs).sum() * patch_size), float((w * ys).sum() * patch_size)


def decode_program(runtime: Runtime, pixel_values, prompt_ids: list[int], pick_token_id: int | None = None,
                   timings: dict[str, float] | None = None, words: list[str] | None = None,
                   ban_radius: float = 1.25, on_eos: Callable[[DecodedProgram], list[int] | None] | None = None,
                   constrained: bool = True, allow_refusal: bool = True) -> DecodedProgram:
    """Decode one program. prompt_ids: instruction ids followed by <sep>.

    pick_token_id: when given, a pick's `<loc>` never chooses a patch whose centre lies within
    ban_radius patches of an earlier pick's point (one block is never picked twice).
    words: the tokenizer's id -> token list, for the grammar mask (constrained: tokens the program
    grammar, models.program_grammar, forbids are masked) and each `<loc>`'s label, whose
    patch-classifier column is added to the pointer logits (the pointer prior).
    allow_refusal=False also masks `refuse`, for a second decode when perception overrules it.
    on_eos: called when the model ends the program; tokens it returns are forced and decoding goes on.
    timings gets vision, prefill and decode in ms.
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


def greedy_decode(model: TabletopVlm, pixel_values: torch.Tensor, prompt_ids: list[int], use_cache: bool = True,
                  pick_token_id: int | None = None, timings: dict[str, float] | None = None,
                  bf16_prefill: bool = False, words: list[str] | None = None, ban_radius: float = 1.25,
                  on_eos: Callable[[DecodedProgram], list[int] | None] | None = None,
                  constrained: bool = True, allow_refusal: bool = True) -> DecodedProgram:
    """`decode_program` over the PyTorch model itself (models.torch_runtime.TorchRuntime).

    use_cache=False recomputes the whole sequence each step (the reference for tests);
    bf16_prefill runs vision and prefill under bfloat16 autocast. Other arguments: decode_program.
    """
    runtime = TorchRuntime(model, pixel_values.device, use_cache=use_cache, bf16=bf16_prefill)
    return decode_program(runtime, pixel_values, prompt_ids, pick_token_id=pick_token_id, timings=timings,
                          words=words, ban_radius=ban_radius, on_eos=on_eos, constrained=constrained,
                          allow_refusal=allow_refusal)
