"""Benchmark tasks, CLIPort-style: a language template, a seeded scene with distractors,
and a success check read from object poses after execution.

    episode = TASKS["put-block-in-bowl"].sample(sim, seed=3)
    ...ground episode.instruction, execute the plan...
    ok, reason = TASKS["put-block-in-bowl"].check(sim, episode, plan.status)

Templates may use {pick} ("red block"), {place} ("green bowl", "blue block" or a
location such as "top left corner"), {pick_color} and {place_color}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vlm_ros.core.types import PlanStatus
from vlm_ros.core.vocabulary import COLORS, LOCATIONS, object_label
from vlm_ros.sim.objects import BLOCK_SIZE, BOWL_HEIGHT, SceneObject, bowl_inner_radius
from vlm_ros.sim.scene import TabletopSim

MOVED_TOL = 0.005  # an object displaced further than this has been moved [m]
LOCATION_TOL = 0.04  # a block this close to a named location is at it [m]
STACK_TOL = 0.02  # a stacked block's centre this close to the lower block's axis is on it [m]


@dataclass
class Episode:
    """One sampled task instance; enough to ground it by oracle and to check it afterwards."""

    task: str
    seed: int
    instruction: str
    template: str
    pick: str  # "red block"
    place: str  # "green bowl", "blue block" or a LOCATIONS key
    pick_ids: list[int] = field(default_factory=list)  # bodies that must end at `place`
    place_id: int | None = None  # body of the bowl/block placed on, if any
    missing: str | None = None  # refuse-missing: the label that is not on the table
    start: dict[int, tuple[float, float, float]] = field(default_factory=dict)  # body -> position [m]


def in_bowl(block: SceneObject, bowl: SceneObject) -> bool:
    """The block's centre is over the bowl's floor, below the rim plus a block (stacking inside counts)."""
    offset = block.position() - bowl.position()
    floor = bowl.position()[2] - BOWL_HEIGHT / 2.0
    return bool(np.linalg.norm(offset[:2]) < bowl_inner_radius() - 0.01
                and block.position()[2] - floor < BOWL_HEIGHT + 1.5 * BLOCK_SIZE)


def on_block(top: SceneObject, bottom: SceneObject) -> bool:
    offset = top.position() - bottom.position()
    return bool(np.linalg.norm(offset[:2]) < STACK_TOL and abs(offset[2] - BLOCK_SIZE) < 0.01)


def at_location(block: SceneObject, location: str) -> bool:
    return bool(np.linalg.norm(block.position()[:2] - np.array(LOCATIONS[location])) < LOCATION_TOL)


class Task:
    """Base: subclasses lay out the scene (`_setup`) and judge the end state (`_judge`)."""

    name = ""
    templates: tuple[str, ...] = ()
    expects_refusal = False

    def sample(self, sim: TabletopSim, seed: int, template: str | None = None) -> Episode:
        """Reset `sim` to this task's scene for `seed` and phrase the instruction."""
        rng = np.random.default_rng([seed, sum(map(ord, self.name))])
        template = template if template is not None else str(rng.choice(self.templates))
        episode = self._setup(sim, seed, rng)
        episode.template = template
        episode.instruction = template.format(
            pick=episode.pick, place=episode.place,
            pick_color=episode.pick.split()[0], place_color=episode.place.split()[0],
        )
        episode.start = {o.body_id: tuple(o.position()) for o in sim.objects()}
        return episode

    def check(self, sim: TabletopSim, episode: Episode, plan_status: PlanStatus) -> tuple[bool, str]:
        """(success, reason) from the scene as it is now."""
        if plan_status is not PlanStatus.OK:
            return False, f"plan was {plan_status.value}"
        return self._judge(sim, episode)

    def _setup(self, sim: TabletopSim, seed: int, rng: np.random.Generator) -> Episode:
        raise NotImplementedError

    def _judge(self, sim: TabletopSim, episode: Episode) -> tuple[bool, str]:
        raise NotImplementedError


def _others(rng: np.random.Generator, exclude: list[str], n_range: tuple[int, int]) -> list[str]:
    """n distinct distractor colours, none in `exclude`."""
    pool = [c for c in COLORS if c not in exclude]
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    return [str(c) for c in rng.choice(pool, size=n, replace=False)]


def _body(sim: TabletopSim, body_id: int | None) -> SceneObject:
    obj = sim.object_by_body(body_id) if body_id is not None else None
    if obj is None:
        raise KeyError(f"body {body_id} is not in the scene; was the sim reset since sampling?")
    return obj


class PutBlockInBowl(Task):
    name = "put-block-in-bowl"
    templates = (
        "put the {pick} in the {place}",
        "place the {pick} into the {place}",
        "drop the {pick} into the {place}",
        "move the {pick} to the {place}",
        "pick up the {pick} and put it in the {place}",
    )

    def _setup(self, sim, seed, rng):
        block, bowl = (str(c) for c in rng.choice(list(COLORS), size=2, replace=True))
        blocks = [block, *_others(rng, [block], (1, 3))]
        bowls = [bowl, *_others(rng, [bowl], (0, 2))]
        sim.reset(seed, blocks=blocks, bowls=bowls)
        pick, place = sim.find(object_label(block, "block"))[0], sim.find(object_label(bowl, "bowl"))[0]
        return Episode(self.name, seed, "", "", pick.label, place.label, [pick.body_id], place.body_id)

    def _judge(self, sim, episode):
        block, bowl = _body(sim, episode.pick_ids[0]), _body(sim, episode.place_id)
        return (True, "ok") if in_bowl(block, bowl) else (False, f"the {block.label} is not in the {bowl.label}")


class StackBlocks(Task):
    name = "stack-blocks"
    templates = (
        "put the {pick} on the {place}",
        "stack the {pick} on top of the {place}",
        "place the {pick} on the {place}",
    )

    def _setup(self, sim, seed, rng):
        top, bottom = (str(c) for c in rng.choice(list(COLORS), size=2, replace=False))
        sim.reset(seed, blocks=[top, bottom, *_others(rng, [top, bottom], (1, 2))],
                  bowls=_others(rng, [], (0, 2)))
        a, b = sim.find(object_label(top, "block"))[0], sim.find(object_label(bottom, "block"))[0]
        return Episode(self.name, seed, "", "", a.label, b.label, [a.body_id], b.body_id)

    def _judge(self, sim, episode):
        top, bottom = _body(sim, episode.pick_ids[0]), _body(sim, episode.place_id)
        return (True, "ok") if on_block(top, bottom) else (False, f"the {top.label} is not on the {bottom.label}")


class PutAllColorInBowl(Task):
    name = "put-all-color-in-bowl"
    templates = (
        "put all the {pick_color} blocks in the {place}",
        "move every {pick_color} block into the {place}",
        "place all {pick_color} blocks in the {place}",
    )

    def _setup(self, sim, seed, rng):
        color, bowl = (str(c) for c in rng.choice(list(COLORS), size=2, replace=True))
        n = int(rng.integers(2, 4))
        sim.reset(seed, blocks=[color] * n + _others(rng, [color], (1, 2)),
                  bowls=[bowl, *_others(rng, [bowl], (0, 1))])
        picks = sim.find(object_label(color, "block"))
        place = sim.find(object_label(bowl, "bowl"))[0]
        return Episode(self.name, seed, "", "", picks[0].label, place.label,
                       [o.body_id for o in picks], place.body_id)

    def _judge(self, sim, episode):
        bowl = _body(sim, episode.place_id)
        out = [b for b in (_body(sim, i) for i in episode.pick_ids) if not in_bowl(b, bowl)]
        return (True, "ok") if not out else (False, f"{len(out)} {episode.pick}(s) not in the {bowl.label}")


class PlaceAtLocation(Task):
    name = "place-at-location"
    templates = (
        "move the {pick} to the {place}",
        "put the {pick} at the {place}",
        "place the {pick} in the {place}",
    )
    clearance = 0.06  # the location is kept this free of objects [m]

    def _setup(self, sim, seed, rng):
        location = str(rng.choice(list(LOCATIONS)))
        block = str(rng.choice(list(COLORS)))
        sim.reset(seed, blocks=[block, *_others(rng, [block], (1, 3))], bowls=_others(rng, [], (0, 2)),
                  keep_clear=[(LOCATIONS[location], self.clearance)])
        pick = sim.find(object_label(block, "block"))[0]
        return Episode(self.name, seed, "", "", pick.label, location, [pick.body_id])

    def _judge(self, sim, episode):
        block = _body(sim, episode.pick_ids[0])
        if at_location(block, episode.place):
            return True, "ok"
        return False, f"the {block.label} is not at the {episode.place}"


class RefuseMissing(Task):
    """The instruction names a block or bowl that is not on the table: the plan must be REFUSED."""

    name = "refuse-missing"
    templates = PutBlockInBowl.templates
    expects_refusal = True

    def _setup(self, sim, seed, rng):
        block, bowl = (str(c) for c in rng.choice(list(COLORS), size=2, replace=True))
        missing_kind = str(rng.choice(["block", "bowl"]))
        # the missing colour may still appear as the other kind: a hard negative
        blocks = _others(rng, [block], (2, 4)) if missing_kind == "block" else [block, *_others(rng, [block], (1, 3))]
        bowls = [bowl, *_others(rng, [bowl], (0, 2))] if missing_kind == "block" else _others(rng, [bowl], (1, 2))
        sim.reset(seed, blocks=blocks, bowls=bowls)
        pick, place = object_label(block, "block"), object_label(bowl, "bowl")
        return Episode(self.name, seed, "", "", pick, place, missing=pick if missing_kind == "block" else place)

    def check(self, sim, episode, plan_status):
        if plan_status is not PlanStatus.REFUSED:
            return False, f"plan was {plan_status.value}, expected REFUSED (no {episode.missing} on the table)"
        moved = [o.label for o in sim.objects()
                 if np.linalg.norm(o.position() - episode.start[o.body_id]) > MOVED_TOL]
        return (True, "ok") if not moved else (False, f"refused, but moved: {', '.join(moved)}")


TASKS: dict[str, Task] = {t.name: t for t in (
    PutBlockInBowl(), StackBlocks(), PutAllColorInBowl(), PlaceAtLocation(), RefuseMissing())}
