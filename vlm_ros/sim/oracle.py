"""Ground-truth grounder: the program a perfect model would write, and the plan it grounds to.

Used to measure the executor alone (no model error), and to label rendered scenes
for training: `program` is the exact text format of vlm_ros.grounding.program, with
pixel points from projecting ground-truth surface points into the sim camera.
"""

from __future__ import annotations

import numpy as np

from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType
from vlm_ros.core.vocabulary import LOCATIONS
from vlm_ros.geometry.placement import ring_slots
from vlm_ros.grounding.program import Program, format_program
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import Episode


def _step(sim: TabletopSim, kind: PrimitiveType, label: str, point: np.ndarray) -> Primitive:
    return Primitive(type=kind, target_label=label, pixel=sim.project(point), position=np.asarray(point))


def oracle_plan(sim: TabletopSim, episode: Episode) -> tuple[str, Plan]:
    """(program text, Plan with base-frame positions) for the episode's scene as it is now."""
    if episode.missing is not None:
        text = format_program(Program(refused_label=episode.missing))
        plan = Plan(episode.instruction, PlanStatus.REFUSED, f"I can't see a {episode.missing}.", raw_output=text,
                    model_id="oracle")
        return text, plan
    picks = [sim.object_by_body(i) for i in episode.pick_ids]
    if any(o is None for o in picks):
        raise KeyError("episode objects are not in the scene; sample the episode on this sim first")
    if episode.place in LOCATIONS:
        x, y = LOCATIONS[episode.place]
        targets = [np.array([x, y, 0.0])]
    else:
        place = sim.object_by_body(episode.place_id)
        if place is None:
            raise KeyError(f"{episode.place} is not in the scene")
        top = place.top_point()
        targets = ring_slots(top, len(picks)) if place.kind == "bowl" else [top]
    steps: list[Primitive] = []
    for obj, target in zip(picks, targets):
        steps.append(_step(sim, PrimitiveType.PICK, obj.label, obj.top_point()))
        steps.append(_step(sim, PrimitiveType.PLACE, episode.place, target))
    text = format_program(Program(steps=steps))
    plan = Plan(episode.instruction, PlanStatus.OK, f"{len(steps)} steps", steps=steps, raw_output=text,
                model_id="oracle")
    return text, plan


