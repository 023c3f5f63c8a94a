"""The sim executor stops on cancel between and within steps: the arm halts, suction is held (real PyBullet)."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType
from vlm_ros.sim import TabletopSim
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.results import CANCELLED
from vlm_ros.sim.robot import HOME

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def sim():
    with TabletopSim(width=160, height=120) as s:
        yield s


@pytest.fixture
def executor(sim):
    sim.reset(4, blocks=["red", "blue"], bowls=["green"])
    return Executor(sim)


class StopAfter:
    """should_stop() that turns true after `calls` checks once `armed` (a cancel arriving mid-motion)."""

    def __init__(self, calls: int):
        self.calls, self.armed, self.seen = calls, False, 0

    def __call__(self) -> bool:
        if self.armed:
            self.seen += 1
        return self.armed and self.seen > self.calls


def pick_and_place(sim) -> Plan:
    red, bowl = sim.find("red block")[0], sim.find("green bowl")[0]
    return Plan("put the red block in the green bowl", PlanStatus.OK, "", [
        Primitive(PrimitiveType.PICK, red.label, position=red.top_point()),
        Primitive(PrimitiveType.PLACE, bowl.label, position=bowl.top_point())])


def still(sim, executor) -> float:
    """Largest joint change over 120 physics steps (0.5 s) after the plan returned [rad]."""
    before = sim.robot.joints()
    sim.step(120)
    return float(np.max(np.abs(sim.robot.joints() - before)))


def test_cancel_within_a_step_halts_the_arm_where_it_is(sim, executor):
    stop = StopAfter(calls=15)
    stop.armed = True  # from the start: the pick's approach is under way when it fires
    result = executor.execute(pick_and_place(sim), should_stop=stop)
    assert result.cancelled and not result.success, result.message
    assert [(r.index, r.success, r.reason) for r in result.results] == [(0, False, CANCELLED)]
    assert "during its motion" in result.message
    assert still(sim, executor) < 1e-3
    assert np.max(np.abs(sim.robot.joints() - np.asarray(HOME))) > 1e-2  # halted, not sent home


def test_cancel_while_carrying_holds_the_block(sim, executor):
    stop = StopAfter(calls=10)

    def feedback(index: int, _total: int, _detail: str) -> None:
        stop.armed = index == 1  # the place step: the block is on the suction cup

    result = executor.execute(pick_and_place(sim), feedback, should_stop=stop)
    assert result.cancelled, result.message
    assert [(r.index, r.success) for r in result.results] == [(0, True), (1, False)]
    held = executor.gripper.held
    assert held is not None and held.label == "red block" and "still holding the red block" in result.message
    below = executor.motion.tip()[2] - held.position()[2]
    assert still(sim, executor) < 1e-3
    executor.gripper.check_held()  # raises DROPPED if the block came off the cup
    assert abs(executor.motion.tip()[2] - held.position()[2] - below) < 3e-3, "suction must hold the block"


def test_cancel_between_steps_runs_no_further_step(sim, executor):
    stop = StopAfter(calls=0)
    steps = [Primitive(PrimitiveType.OPEN_GRIPPER), *pick_and_place(sim).steps]
    joints_before = sim.robot.joints()

    def feedback(index: int, _total: int, _detail: str) -> None:
        stop.armed = True  # the cancel arrives while step 0 (no arm motion) runs

    result = executor.execute(Plan("x", PlanStatus.OK, "", steps), feedback, should_stop=stop)
    assert result.cancelled and "before it started" in result.message, result.message
    assert [(r.index, r.success) for r in result.results] == [(0, True), (1, False)]
    assert np.allclose(sim.robot.joints(), joints_before, atol=1e-3)  # the arm never moved (no waypoint ran)


def test_a_plan_without_cancel_still_finishes(sim, executor):
    result = executor.execute(pick_and_place(sim), should_stop=lambda: False)
    assert result.success and not result.cancelled, result.message
