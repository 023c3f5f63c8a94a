"""Perception check of a decoded program with the model's own patch classifier.

The decoder decides what the instruction asks for; the patch classifier says which objects the
image shows. A step whose object the classifier does not see anywhere turns the program into a
refusal of that object, and an extra pick of a repeated label ("all the red blocks") that lands
where the classifier sees no such object is dropped with its place step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vlm_ros.models.labels import label_class


def split_steps(words: list[str]) -> list[tuple[str, str]]:
    """['pick', 'red', 'block', '<loc>', ...] -> [('pick', 'red block'), ...]; refusals -> []."""
    steps, current = [], []
    for w in words:
        if w == "<loc>":
            if current:
                steps.append((current[0], " ".join(current[1:])))
            current = []
        else:
            current.append(w)
    return steps


def neighbourhood(patch: int, grid: int) -> list[int]:
    r, c = divmod(patch, grid)
    return [rr * grid + cc for rr in range(r - 1, r + 2) for cc in range(c - 1, c + 2)
            if 0 <= rr < grid and 0 <= cc < grid]


def two_patch_support(probs: torch.Tensor, grid: int) -> float:
    """max over patches of min(p, its best 8-neighbour): how strongly two adjacent patches agree.

    A bowl spans several patches, so a real one lights up a pair; a shadow or a block's side face
    that looks like a gray or cyan bowl lights up one patch alone."""
    image = probs.float().reshape(1, 1, grid, grid)
    padded = F.pad(image, (1, 1, 1, 1))
    shifts = [padded[..., 1 + dy:1 + dy + grid, 1 + dx:1 + dx + grid]
              for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    best_neighbour = torch.stack(shifts).amax(0)
    return float(torch.minimum(image, best_neighbour).max())


def presence_score(label: str, class_probs: torch.Tensor, grid: int) -> float:
    """How surely the classifier sees `label` anywhere: one patch for a block, two adjacent for a bowl."""
    c = label_class(label)
    if c < 0:
        return 1.0  # a location: always there
    if label.endswith(" bowl"):
        return two_patch_support(class_probs[:, c], grid)
    return float(class_probs[:, c].max())


def verify_program(words: list[str], patches: list[int], class_probs: torch.Tensor, grid: int,
                   threshold: float, points: list[tuple[float, float]] | None = None,
                   same_radius: float = 0.0, bowl_threshold: float = 0.0) -> tuple[list[str], list[int]]:
    """-> (program words, indices of the kept `<loc>` points). class_probs [P, C].

    threshold: presence of a block (its best patch); bowl_threshold: presence of a bowl (its best
    pair of adjacent patches, see presence_score), `threshold` when 0 (as in the model config).

    points (model pixels) and same_radius (model pixels): a repeated pick closer than that to an
    earlier pick of the same label is the same object again, and is dropped with its place.
    """
    if not words or words[0] == "refuse":
        return words, list(range(len(patches)))
    steps = split_steps(words)
    if len(steps) != len(patches):
        return words, list(range(len(patches)))
    for _, label in steps:
        limit = bowl_threshold if bowl_threshold and label.endswith(" bowl") else threshold
        if presence_score(label, class_probs, grid) < limit:
            return ["refuse", *label.split()], []
    picks = [label for op, label in steps if op == "pick"]
    keep: list[int] = []
    i = 0
    while i < len(steps):
        op, label = steps[i]
        c = label_class(label)
        repeated = op == "pick" and picks.count(label) > 1 and c >= 0
        if repeated and i + 1 < len(steps) and keep:
            local = float(class_probs[neighbourhood(patches[i], grid), c].max())
            again = points is not None and any(
                steps[j] == (op, label) and (points[j][0] - points[i][0]) ** 2 + (points[j][1] - points[i][1]) ** 2
                < same_radius**2 for j in keep)
            if local < threshold or again:
                i += 2  # no such object here, or one already picked: drop the pick and its place
                continue
        keep.append(i)
        i += 1
    out: list[str] = []
    for i in keep:
        op, label = steps[i]
        out += [op, *label.split(), "<loc>"]
    return out, keep


def unpicked_object(words: list[str], points: list[tuple[float, float]], class_probs: torch.Tensor, grid: int,
                    patch_size: int, threshold: float, radius: float,
                    asks_for_all: bool = False) -> tuple[str, str] | None:
    """For a program that picks one label several times ("all the red blocks"), or picks one label
    only once while the instruction asks for all of a colour (asks_for_all): an object of that
    label the classifier sees (probability >= threshold) farther than `radius` patches from every
    pick so far -> (label, place label) of the step pair to add; else None."""
    steps = split_steps(words)
    if len(steps) != len(points):
        return None
    picks = [(i, label) for i, (op, label) in enumerate(steps) if op == "pick"]
    labels = [label for _, label in picks]
    # a single-label program stands for "all of them" when the instruction says so; in a chain of
    # several labels the quantifier may belong to another clause
    min_picks = 1 if asks_for_all and len(set(labels)) == 1 else 2
    for label in dict.fromkeys(labels):
        c = label_class(label)
        if labels.count(label) < min_picks or c < 0:
            continue
        taken = [points[i] for i, lab in picks if lab == label]
        last = max(i for i, lab in picks if lab == label)
        if last + 1 >= len(steps):
            continue
        for p in torch.nonzero(class_probs[:, c] >= threshold).flatten().tolist():
            cx, cy = ((p % grid) + 0.5) * patch_size, ((p // grid) + 0.5) * patch_size
            if all((cx - x) ** 2 + (cy - y) ** 2 > (radius * patch_size) ** 2 for x, y in taken):
                return label, steps[last + 1][1]
    return None
