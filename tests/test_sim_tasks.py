"""Tasks: seeded sampling, distractors, success checks from poses, and short oracle runs."""

from __future__ import annotations

import numpy as np
import pybullet as p
import pytest

from vlm_ros.core.types import PlanStatus
from vlm_ros.core.vocabulary import LOCATIONS
from vlm_ros.grounding.program import parse_program
from vlm_ros.sim import TabletopSim
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.tasks import TASKS

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def sim():
    with TabletopSim(width=160, height=120) as s:
        yield s


def teleport(sim, obj, xyz) -> None:
    p.resetBasePositionAndOrientation(obj.body_id, list(xyz), [0, 0, 0, 1], physicsClientId=sim.client)
    sim.step(120)


def test_sampling_is_deterministic_and_has_distractors(sim):
    for name, task in TASKS.items():
        a = task.sample(sim, 5)
        layout = [(o.label, tuple(np.round(o.position(), 6))) for o in sim.objects()]
        b = task.sample(sim, 5)
        assert (a.instruction, layout) == (b.instruction, [(o.label, tuple(np.round(o.position(), 6)))
                                                           for o in sim.objects()]), name
        involved = len(a.pick_ids) + (a.place_id is not None)
        assert len(sim.objects()) > involved, f"{name}: no distractor"
        assert "{" not in a.instruction and a.task == name


def test_template_placeholders(sim):
    ep = TASKS["put-block-in-bowl"].sample(sim, 2, template="drop the {pick} into the {place}")
    assert ep.instruction == f"drop the {ep.pick} into the {ep.place}"
    ep = TASKS["put-all-color-in-bowl"].sample(sim, 2, template="all {pick_color} blocks to the {place_color} bowl")
    assert ep.instruction == f"all {ep.pick.split()[0]} blocks to the {ep.place.split()[0]} bowl"
    assert len(ep.pick_ids) >= 2 and len(sim.find(ep.pick)) == len(ep.pick_ids)


def test_block_in_bowl_counts_beside_it_does_not(sim):
    task = TASKS["put-block-in-bowl"]
    ep = task.sample(sim, 3)
    block, bowl = sim.object_by_body(ep.pick_ids[0]), sim.object_by_body(ep.place_id)
    assert task.check(sim, ep, PlanStatus.OK) == (False, f"the {block.label} is not in the {bowl.label}")
    teleport(sim, block, bowl.top_point() + np.array([0.0, 0.0, 0.03]))
    assert task.check(sim, ep, PlanStatus.OK) == (True, "ok")
    assert task.check(sim, ep, PlanStatus.REFUSED)[0] is False
    teleport(sim, block, bowl.position() * [1, 1, 0] + [0.0, 0.095, 0.02])  # touching the bowl's outside
    assert task.check(sim, ep, PlanStatus.OK)[0] is False


def test_stack_and_location_checks(sim):
    stack = TASKS["stack-blocks"]
    ep = stack.sample(sim, 1)
    top, bottom = sim.object_by_body(ep.pick_ids[0]), sim.object_by_body(ep.place_id)
    assert not stack.check(sim, ep, PlanStatus.OK)[0]
    teleport(sim, top, bottom.position() + np.array([0.0, 0.0, 0.045]))
    assert stack.check(sim, ep, PlanStatus.OK)[0]
    teleport(sim, top, bottom.position() + np.array([0.0, 0.06, 0.0]))  # beside it
    assert not stack.check(sim, ep, PlanStatus.OK)[0]

    loc = TASKS["place-at-location"]
    ep = loc.sample(sim, 1)
    block, (x, y) = sim.object_by_body(ep.pick_ids[0]), LOCATIONS[ep.place]
    teleport(sim, block, (x + 0.01, y, 0.02))
    assert loc.check(sim, ep, PlanStatus.OK)[0]
    teleport(sim, block, (x + 0.07, y, 0.02))
    assert not loc.check(sim, ep, PlanStatus.OK)[0]


def test_refuse_missing_check(sim):
    task = TASKS["refuse-missing"]
    for seed in range(10):
        ep = task.sample(sim, seed)
        assert ep.missing in (ep.pick, ep.place) and sim.find(ep.missing) == []
        assert ep.missing in ep.instruction
        assert task.check(sim, ep, PlanStatus.REFUSED) == (True, "ok")
        assert not task.check(sim, ep, PlanStatus.OK)[0]
    teleport(sim, sim.objects()[0], (0.5, 0.0, 0.02))
    assert task.check(sim, ep, PlanStatus.REFUSED)[1].startswith("refused, but moved")


@pytest.mark.parametrize("name", list(TASKS))
def test_oracle_solves_each_task(sim, name):
    executor = Executor(sim)
    task = TASKS[name]
    for seed in range(100, 103):
        ep = task.sample(sim, seed)
        text, plan = oracle_plan(sim, ep)
        program = parse_program(text)
        assert program.refused == task.expects_refusal
        for parsed, step in zip(program.steps, plan.steps):
            assert parsed.pixel == pytest.approx(sim.project(step.position), abs=0.06)  # text keeps 0.1 px
        result = executor.execute(plan)
        assert result.success != task.expects_refusal, result.message
        assert task.check(sim, ep, plan.status) == (True, "ok"), (name, seed, result.message)
