"""Tune the model's presence check on rendered scenes that neither training nor evaluation uses.

For every scene and every one of the 22 object labels, score how surely the patch classifier
sees it (vlm_ros.models.verify.presence_score: one patch for a block, two adjacent for a bowl),
then sweep a threshold per kind and report false refusals (present, scored low) and false
acceptances (absent, scored high). The refusal overrule threshold (a decoder refusal of an object
scoring this is decoded again without `refuse`) is set above every absent object's score, so on
these scenes it never overrules a true refusal. `--write` stores the chosen thresholds in the model's
config.json, where every backend reads them (re-export the ONNX graphs afterwards).

    python tools/tune_presence.py --model vlm_ros/weights/tabletop-tiny --scenes 300 --seed 810000
    python tools/tune_presence.py --model runs/tabletop-tiny-v2/final --recipe tabletop-tiny-v2 --write
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from vlm_ros.core.vocabulary import COLORS
from vlm_ros.models import DEFAULT_WEIGHTS_PATH, load_grounder
from vlm_ros.models.verify import presence_score
from vlm_ros.sim.layout import LayoutError
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.training.scenes import sample_colors

LABELS = [f"{c} {k}" for c in COLORS for k in ("block", "bowl")]


def score_scenes(model: str, start: int, count: int, recipe: str = "") -> list[tuple[str, bool, float]]:
    """(label, present, score) for every label of every scene: the trained cell's, or with `recipe` the
    domain-randomised cells that recipe trains on (cameras, light, tables, arm), so a v2 model's thresholds
    are set where it is used."""
    grounder = load_grounder(model)
    rows = []
    for rgb, present in (_randomized_scenes(recipe, start, count) if recipe else _trained_cell(start, count)):
        probs = grounder.decode(rgb, "pick the red block").class_probs
        rows += [(label, label in present, presence_score(label, probs, grounder.grid_size)) for label in LABELS]
    return rows


def _trained_cell(start: int, count: int) -> Iterator[tuple[np.ndarray, set[str]]]:
    """(frame, labels in it) from the default camera; seeds with no layout are skipped."""
    sim = TabletopSim()
    for seed in range(start, start + count):
        blocks, bowls = sample_colors(np.random.default_rng([seed, 7]))
        try:
            objects = sim.reset(seed, blocks=blocks, bowls=bowls)
        except LayoutError:
            continue
        yield sim.render().rgb, {o.label for o in objects}
    sim.close()


def _randomized_scenes(recipe: str, start: int, count: int) -> Iterator[tuple[np.ndarray, set[str]]]:
    """(frame, labels in it) drawn from the recipe's randomisation, as its training scenes are."""
    from vlm_ros.models.processor import ImageProcessor
    from vlm_ros.training.recipes import get_recipe
    from vlm_ros.training.scenes import SceneRenderer

    randomization = get_recipe(recipe).randomization
    height = randomization.render_height
    renderer = SceneRenderer(ImageProcessor(), height * 4 // 3, height, randomization=randomization)
    for seed in range(start, start + count):
        scene = renderer.render(seed, keep_frame=True)
        yield scene.frame, {o.label for o in scene.objects}
    renderer.close()


def sweep(rows: list[tuple[str, bool, float]], kind: str) -> tuple[float, int, int, int, int]:
    """-> (threshold, false refusals, present, false acceptances, absent) with the lowest false-refusal rate plus
    false-acceptance rate (rates, not counts: a scene shows a few of the 11 labels of a kind and
    lacks the rest, but an episode names one or two); ties: the middle one."""
    present = np.array([p for label, p, _ in rows if label.endswith(kind)])
    score = np.array([s for label, _, s in rows if label.endswith(kind)])
    grid = np.round(np.arange(0.30, 0.99, 0.01), 2)
    errors = np.array([((score < t) & present).sum() / max(1, present.sum())
                       + ((score >= t) & ~present).sum() / max(1, (~present).sum()) for t in grid])
    best = np.flatnonzero(errors <= errors.min() + 1e-12)
    t = float(grid[best[len(best) // 2]])
    return (t, int(((score < t) & present).sum()), int(present.sum()), int(((score >= t) & ~present).sum()),
            int((~present).sum()))


def overrule_threshold(rows: list[tuple[str, bool, float]], step: float = 0.005) -> tuple[float, int, int]:
    """-> (lowest multiple of `step` above every absent label's score, present labels at or above
    it, present labels): how many decoder refusals of a present object it could overrule."""
    top_absent = max((s for _, p, s in rows if not p), default=0.0)
    t = min(round(float(np.floor(top_absent / step) + 1) * step, 3), 0.999)
    present = [s for _, p, s in rows if p]
    return t, int(sum(s >= t for s in present)), len(present)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_WEIGHTS_PATH))
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=810000)
    ap.add_argument("--recipe", default="", help="score the domain-randomised cells of this training recipe "
                    "(tabletop-tiny-v2) instead of the trained cell")
    ap.add_argument("--write", action="store_true", help="store the thresholds in the model's config.json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = score_scenes(a.model, a.seed, a.scenes, a.recipe)
    chosen = {}
    for kind, key in ((" block", "presence_threshold"), (" bowl", "bowl_presence_threshold")):
        t, refused, n_present, accepted, n_absent = sweep(rows, kind)
        print(f"{kind.strip():5s}: threshold {t:.2f}: {refused}/{n_present} present refused, "
              f"{accepted}/{n_absent} absent accepted")
        chosen[key] = t
    t, covered, n_present = overrule_threshold(rows)
    print(f"overrule: threshold {t:.3f}: above every absent object; {covered}/{n_present} present objects reach it")
    chosen["refusal_overrule_threshold"] = t
    if a.write:
        path = Path(a.model) / "config.json"
        config = json.loads(path.read_text())
        config.update(chosen)
        path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        print(f"wrote {chosen} to {path}")


if __name__ == "__main__":
    main()
