"""Closed-loop grounding evaluation on held-out sim episodes (what `vlm-ros eval-grounding` runs).

Episodes are the bench's tasks (vlm_ros.sim.tasks.TASKS) on seeds from `seed` on, rendered at
640 x 480 and grounded from the full frame. Instructions come from a template set: the bench's own
templates, a directory of <task>.txt files (training/templates/train or /heldout), or one file
(lines with {pick_color} go to put-all-color-in-bowl, the others to the remaining tasks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vlm_ros.core.vocabulary import LOCATIONS
from vlm_ros.training.grammar import read_templates
from vlm_ros.training.metrics import point_error_cm

BLOCK_RADIUS_CM = 2.5  # a point this close to a block's top centre is on that block
BOWL_RADIUS_CM = 5.0  # ... to a bowl's floor centre is in that bowl
VIEW_ATTEMPTS = 10  # draws of a shift per episode until every object is in the model's view


def template_sets(source: str | Path | None) -> dict[str, list[str]] | None:
    """None -> the bench's templates; a directory -> <task>.txt per task; a file -> split by placeholder."""
    from vlm_ros.sim.tasks import TASKS

    if source is None:
        return None
    source = Path(source)
    if source.is_dir():
        sets = {}
        for name in TASKS:
            f = source / f"{name}.txt"
            sets[name] = read_templates(f) if f.exists() else []
        sets["refuse-missing"] = sets["refuse-missing"] or sets.get("put-block-in-bowl", [])
        return sets
    lines = read_templates(source)
    color = [t for t in lines if "{pick_color}" in t]
    other = [t for t in lines if "{pick_color}" not in t]
    return {name: (color if name == "put-all-color-in-bowl" else other) for name in TASKS}


@dataclass
class EpisodeResult:
    task: str
    instruction: str
    raw_output: str
    expected_refusal: bool
    refused: bool
    correct: bool
    errors_cm: list[float] = field(default_factory=list)
    latency_ms: float = 0.0
    in_view: bool = True  # every labelled object inside the model's crop and unoccluded (shifted cells)


def judge(sim, camera, episode, program) -> tuple[bool, list[float]]:
    """Did the program name the right objects and point at them? Also the point errors [cm]."""
    intr, cam_to_base = camera
    steps = program.steps
    place = episode.place
    pick_objs = [sim.object_by_body(i) for i in episode.pick_ids]
    n = len(pick_objs)
    if len(steps) != 2 * n or program.refused:
        return False, []
    errors, ok = [], True
    remaining = list(pick_objs)
    for k in range(n):
        pick, put = steps[2 * k], steps[2 * k + 1]
        if pick.type.value != "pick" or put.type.value != "place" or pick.target_label != episode.pick:
            return False, errors
        # the pick must land on one of the not-yet-picked target blocks
        dists = [point_error_cm(intr, cam_to_base, pick.pixel, tuple(o.top_point())) for o in remaining]
        j = int(np.argmin(dists))
        errors.append(dists[j])
        ok &= dists[j] <= BLOCK_RADIUS_CM
        remaining.pop(j)
        if put.target_label != place:
            return False, errors
        if place in LOCATIONS:
            continue
        target = sim.object_by_body(episode.place_id)
        err = point_error_cm(intr, cam_to_base, put.pixel, tuple(target.top_point()))
        errors.append(err)
        ok &= err <= (BOWL_RADIUS_CM if target.kind == "bowl" else BLOCK_RADIUS_CM)
    return bool(ok), errors


SYNONYMS = {"block": ("block", "cube", "box"), "blocks": ("blocks", "cubes", "boxes"),
            "bowl": ("bowl", "dish", "container")}


def with_synonyms(rng: np.random.Generator, text: str) -> str:
    """Say "cube"/"box"/"dish"/"container" for the canonical kinds, at random."""
    return " ".join(str(rng.choice(SYNONYMS[w])) if w in SYNONYMS else w for w in text.split(" "))


def evaluate_grounder(grounder, episodes: int, seed: int, templates: str | Path | None = None,
                      progress: bool = True, synonyms: bool = False, width: int = 640, height: int = 480,
                      shift=None, desc: str = "eval") -> tuple[dict, list[EpisodeResult]]:
    """width x height: the render size (same vertical field of view), e.g. 848x480 for a 16:9 camera.
    shift: None (the trained cell) or a training.shifts function rng -> CellLook, applied to
    every episode; the judge then uses that episode's camera."""
    from tqdm import tqdm

    from vlm_ros.core.errors import ModelOutputError
    from vlm_ros.sim.look import sensor_effects
    from vlm_ros.sim.scene import TabletopSim
    from vlm_ros.sim.tasks import TASKS
    from vlm_ros.training.randomization import keeps_objects_in_view

    sets = template_sets(templates)
    names = list(TASKS)
    results: list[EpisodeResult] = []
    with TabletopSim(gui=False, width=width, height=height) as sim:
        for i in tqdm(range(episodes), desc=desc, disable=not progress):
            name = names[i % len(names)]
            task = TASKS[name]
            ep_seed = seed + i
            rng = np.random.default_rng([ep_seed, 99])
            template = str(rng.choice(sets[name])) if sets and sets.get(name) else None
            look, in_view = None, True
            for attempt in range(VIEW_ATTEMPTS if shift is not None else 1):
                if shift is not None:  # a fresh draw of the shift while an object is out of view
                    look = shift(np.random.default_rng([ep_seed, 17, attempt]))
                    sim.set_look(look)
                episode = task.sample(sim, ep_seed, template=template)
                frame = sim.render()
                if look is None:
                    break
                in_view = keeps_objects_in_view(sim, grounder.processor, frame.depth)
                if in_view:
                    break
            instruction = with_synonyms(rng, episode.instruction) if synonyms else episode.instruction
            camera = (sim.intrinsics, sim.camera_to_base)
            rgb = frame.rgb
            if look is not None:
                rgb = sensor_effects(rgb, np.random.default_rng([ep_seed, 23]), look.noise_std, look.jpeg_quality)
            t0 = time.perf_counter()
            try:
                result = grounder.ground(rgb, instruction)
                program, raw = result.program, result.raw_output
            except ModelOutputError as error:
                program, raw = None, f"<error: {error}>"
            latency = (time.perf_counter() - t0) * 1e3
            refused = bool(program is not None and program.refused)
            if task.expects_refusal:
                correct, errors = refused and program.refused_label == episode.missing, []
            elif program is None:
                correct, errors = False, []
            else:
                correct, errors = judge(sim, camera, episode, program)
            results.append(EpisodeResult(name, instruction, raw, task.expects_refusal, refused, correct,
                                         errors, latency, in_view))
    return summarize(results), results


def summarize(results: list[EpisodeResult]) -> dict:
    act = [r for r in results if not r.expected_refusal]
    errors = [e for r in act for e in r.errors_cm]
    lat = [r.latency_ms for r in results]
    per_task: dict[str, float] = {}
    for name in sorted({r.task for r in results}):
        rs = [r for r in results if r.task == name]
        per_task[name] = sum(r.correct for r in rs) / len(rs)
    return {
        "episodes": len(results),
        "correct_object_rate": sum(r.correct for r in act) / max(1, len(act)),
        "point_error_cm": {"median": float(np.median(errors)) if errors else None,
                           "p90": float(np.percentile(errors, 90)) if errors else None},
        "refusal_accuracy": sum(r.refused == r.expected_refusal for r in results) / max(1, len(results)),
        "refusal_label_accuracy": (sum(r.correct for r in results if r.expected_refusal)
                                   / max(1, sum(r.expected_refusal for r in results))),
        "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))},
        "in_view_rate": sum(r.in_view for r in results) / max(1, len(results)),
        "per_task_correct": per_task,
    }
