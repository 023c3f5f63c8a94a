"""The closed loop in plain Python on the real sim with the shipped model: what is done is never redone."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.types import PrimitiveType
from vlm_ros.grounding.closed_loop import ClosedLoop, replan_instruction
from vlm_ros.grounding.verification import Finding, Goal, Verification
from vlm_ros.models import DEFAULT_WEIGHTS_PATH
from vlm_ros.sim.closed_loop_bench import InProcessCell
from vlm_ros.sim.faults import FaultConfig, FaultInjector
from vlm_ros.sim.tasks import in_bowl

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(not (DEFAULT_WEIGHTS_PATH / "config.json").exists(), reason="no shipped weights")]
CHAIN = "put the red block in the green bowl, then the blue block in the purple bowl"


def second_transport_slips(seed: int, config: FaultConfig) -> bool:
    """Replays the injector's draws in the executor's order (pick, place, pick, place) for `seed`."""
    injector = FaultInjector(config)
    injector.reset(seed)
    injector.start_plan()
    start, goal = np.array([0.4, 0.2, 0.15]), np.array([0.5, -0.2, 0.15])
    slips = []
    for _ in range(2):
        injector.pick_missed()
        injector.place_offset()
        slips.append(injector.slip_point(start, goal) is not None)
        if not slips[-1]:
            injector.nudge_after_place(None, -1)  # draws only: nudge is 0
    return slips == [False, True]


@pytest.fixture(scope="module")
def cell():
    from vlm_ros.grounding.factory import make_grounder

    config = FaultConfig(slip=0.5, plans=1)
    cell = InProcessCell(make_grounder("onnxruntime"), config)
    yield cell, config
    cell.close()


def test_a_chain_with_the_second_block_dropped_redoes_only_the_second(cell):
    cell, config = cell
    seed = next(s for s in range(1000) if second_transport_slips(s, config))
    sim = cell.sim
    sim.reset(4343, blocks=["red", "blue", "yellow"], bowls=["green", "purple"])
    cell.faults.reset(seed)
    cell.plans = []
    events = []
    loop = ClosedLoop(cell.ground, cell.execute, cell.observe, cell.verifier, 3,
                      lambda stage, attempt, detail, v: events.append((stage, attempt, detail)))
    result = loop.run(CHAIN)
    assert cell.faults.log[-1] == "slip" and result.success, (result.message, cell.faults.log, events)
    first, second = result.attempts
    assert [(r.index, r.success, r.reason) for r in first.execution.step_results] == [
        (0, True, ""), (1, True, ""), (2, True, ""), (3, False, "dropped")]
    assert [f.satisfied for f in first.verification.findings] == [True, False]
    assert ("replanning", 2, "put the blue block in the purple bowl") in events
    # the red block, verified in its bowl, is never picked again
    assert [(s.type, s.target_label) for s in second.plan.steps] == [
        (PrimitiveType.PICK, "blue block"), (PrimitiveType.PLACE, "purple bowl")]
    assert second.verification.verified
    red, blue = sim.find("red block")[0], sim.find("blue block")[0]
    assert in_bowl(red, sim.find("green bowl")[0]) and in_bowl(blue, sim.find("purple bowl")[0])


def test_out_of_attempts(cell):
    cell, _ = cell
    cell.faults.configure(FaultConfig(slip=1.0))
    try:
        record = cell.run_episode("put-block-in-bowl", 300003, max_attempts=2)
    finally:
        cell.faults.configure(FaultConfig(slip=0.5, plans=1))
    assert not record.success and record.attempts == 2
    assert record.message.startswith("Gave up after 2 attempts") and record.checks == [(False, False)] * 2


def test_replan_phrases_only_the_unmet_goals():
    goals = [Goal(0, 1, "red block", "green bowl", "in"), Goal(2, 3, "blue block", "top left corner", "at"),
             Goal(4, 5, "gray block", "white bowl", "in"), Goal(6, 7, "gray block", "white bowl", "in")]
    findings = [Finding(goals[0], True, ""), Finding(goals[1], False, ""), Finding(goals[2], True, ""),
                Finding(goals[3], False, "")]
    last = Verification(True, False, "", findings)
    assert replan_instruction("all of it", goals, last) == (
        "move the blue block to the top left corner, then put all the gray blocks in the white bowl")
    assert replan_instruction("all of it", goals, None) == "all of it"
