"""Verification on real PyBullet scenes after real execution: successes and failures are both seen, per task."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType
from vlm_ros.geometry.projection import Projector
from vlm_ros.grounding.verification import AT, IN, ON, Verifier, goals_of, probe_instruction, relation_of
from vlm_ros.models import DEFAULT_WEIGHTS_PATH
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.faults import FaultConfig, FaultInjector
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def cell():
    with TabletopSim() as sim:
        yield sim, Verifier(None, Projector(sim.camera_to_base), locator="color")


def execute(sim: TabletopSim, task: str, seed: int, faults: FaultConfig):
    """Oracle plan for the episode, executed with faults; (plan, sim says, faults injected)."""
    injector = FaultInjector(faults)
    episode = TASKS[task].sample(sim, seed)
    injector.reset(seed)
    _, plan = oracle_plan(sim, episode)
    Executor(sim, faults=injector).execute(plan)
    return plan, TASKS[task].check(sim, episode, plan.status)[0], injector.log


FAULTS = {"none": FaultConfig(), "slip": FaultConfig(slip=1.0), "nudge": FaultConfig(nudge=1.0),
          "miss": FaultConfig(miss_pick=1.0), "noise": FaultConfig(place_noise=0.04)}


@pytest.mark.parametrize("task", ["put-block-in-bowl", "stack-blocks", "place-at-location", "put-all-color-in-bowl"])
@pytest.mark.parametrize("fault", ["none", "slip", "nudge", "miss"])
def test_verdict_matches_the_sim_check(cell, task, fault):
    sim, verifier = cell
    seed = 400000 + list(FAULTS).index(fault)
    plan, sim_says, log = execute(sim, task, seed, FAULTS[fault])
    verification = verifier.verify(sim.render(), goals_of(plan))
    assert verification.checked and verification.stamp_ns == sim.time_ns()
    assert sim_says is (fault == "none"), (task, fault, log)  # each fault really breaks the task
    assert verification.verified is sim_says, verification.message
    for finding in verification.findings:
        assert finding.satisfied is (fault == "none") or len(verification.findings) > 1
        if finding.object_position is not None and fault == "none":
            assert finding.distance < finding.tolerance


def test_placement_noise_near_the_tolerance_agrees_with_the_sim(cell):
    sim, verifier = cell
    verdicts = []
    for seed in range(410000, 410012):
        plan, sim_says, _ = execute(sim, "stack-blocks", seed, FAULTS["noise"])
        verdicts.append((verifier.verify(sim.render(), goals_of(plan)).verified, sim_says))
    assert {s for _, s in verdicts} == {True, False}  # 4 cm noise lands both on and off the lower block
    assert sum(v == s for v, s in verdicts) >= 11, verdicts


def test_goals_relations_and_probes():
    steps = [Primitive(PrimitiveType.PICK, "red block"), Primitive(PrimitiveType.PLACE, "green bowl",
                                                                     position=np.array([0.5, 0.0, 0.0])),
             Primitive(PrimitiveType.PICK, "blue block"), Primitive(PrimitiveType.PLACE, "red block"),
             Primitive(PrimitiveType.PICK, "gray block"), Primitive(PrimitiveType.PLACE, "top left corner"),
             Primitive(PrimitiveType.HOME)]
    goals = goals_of(Plan("x", PlanStatus.OK, "", steps))
    assert [(g.pick_step, g.place_step, g.obj, g.target, g.relation) for g in goals] == [
        (0, 1, "red block", "green bowl", IN), (2, 3, "blue block", "red block", ON),
        (4, 5, "gray block", "top left corner", AT)]
    assert goals[0].target_position == (0.5, 0.0, 0.0)
    assert relation_of("left") == AT and relation_of("yellow cube") == ON and relation_of("pink dish") == IN
    assert probe_instruction(goals[0]) == "put the red block in the green bowl"
    assert probe_instruction(goals[0], plural=True) == "put all the red blocks in the green bowl"
    assert probe_instruction(goals[2]) == "move the gray block to the top left corner"


def test_no_frame_or_no_goal_is_not_a_verdict(cell):
    sim, verifier = cell
    assert not verifier.verify(None, []).checked
    home = Plan("go home", PlanStatus.OK, "", [Primitive(PrimitiveType.HOME)])
    result = verifier.verify(sim.render(), goals_of(home))
    assert not result.checked and not result.verified and "Nothing to verify" in result.message


@pytest.mark.skipif(not (DEFAULT_WEIGHTS_PATH / "config.json").exists(), reason="no shipped weights")
def test_the_grounder_locator_repoints_at_a_dropped_block(cell):
    """locator=grounder (what families use): the model points at the block where it fell, off the bowl."""
    from vlm_ros.grounding.factory import make_grounder

    sim, _ = cell
    verifier = Verifier(make_grounder("onnxruntime"), Projector(sim.camera_to_base), locator="grounder")
    plan, sim_says, log = execute(sim, "put-block-in-bowl", 400001, FAULTS["slip"])
    assert not sim_says and log == ["slip"]
    verification = verifier.verify(sim.render(), goals_of(plan))
    finding = verification.findings[0]
    assert verification.checked and not verification.verified
    assert finding.object_position is not None, finding.message
    block = sim.find(plan.steps[0].target_label)[0].position()
    assert np.hypot(*(finding.object_position[:2] - block[:2])) < 0.02  # it found the block, where it lies


def test_blocks_piled_in_a_bowl_count_as_all_in_it(cell):
    """"put all the red blocks in the bowl": the lower block of a flat pile is hidden by the upper one,
    so the verifier counts the pile by its height; a lone block on the floor stays one block."""
    import pybullet as p

    sim, verifier = cell
    sim.reset(420000, blocks=["red", "red"], bowls=["green"])
    bowl = sim.find("green bowl")[0]
    floor = bowl.top_point()
    lower, upper = sim.find("red block")
    for index, block in enumerate((lower, upper)):
        z = floor[2] + block.size * (index + 0.5) + 0.001
        p.resetBasePositionAndOrientation(block.body_id, [floor[0], floor[1], z], [0, 0, 0, 1],
                                          physicsClientId=sim.client)
    sim.step(240)
    steps = []
    for _ in range(2):
        steps += [Primitive(PrimitiveType.PICK, "red block"),
                  Primitive(PrimitiveType.PLACE, "green bowl", position=floor.copy())]
    goals = goals_of(Plan("put all the red blocks in the green bowl", PlanStatus.OK, "", steps))
    verification = verifier.verify(sim.render(), goals)
    assert verification.verified, verification.message
    assert TASKS["put-all-color-in-bowl"]._judge(sim, _pile_episode(sim, bowl, (lower, upper)))[0]
    # the upper block moved off the pile onto the table: one in, one out, and the verdict says so
    p.resetBasePositionAndOrientation(upper.body_id, [floor[0] + 0.2, floor[1], upper.size / 2 + 0.001],
                                      [0, 0, 0, 1], physicsClientId=sim.client)
    sim.step(240)
    verification = verifier.verify(sim.render(), goals)
    assert verification.checked and not verification.verified, verification.message


def _pile_episode(sim, bowl, blocks):
    from vlm_ros.sim.tasks import Episode

    return Episode("put-all-color-in-bowl", 0, "", "", blocks[0].label, bowl.label,
                   [b.body_id for b in blocks], bowl.body_id)
