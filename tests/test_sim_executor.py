"""The executor on the real simulated Panda: success, failure reasons, rejection, recovery."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType
from vlm_ros.sim import WORKSPACE, TabletopSim
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.motion import ArmMotion
from vlm_ros.sim.results import DROPPED, HAND_EMPTY, NO_TARGET, NOTHING_GRASPED, OUTSIDE, UNREACHABLE
from vlm_ros.sim.robot import HOME
from vlm_ros.sim.tasks import in_bowl
from vlm_ros.sim.workspace import Box3

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def sim():
    with TabletopSim(width=160, height=120) as s:
        yield s


@pytest.fixture(scope="module")
def executor(sim):
    return Executor(sim)


def plan(*steps: Primitive) -> Plan:
    return Plan("test", PlanStatus.OK, "", list(steps))


def pick(obj) -> Primitive:
    return Primitive(PrimitiveType.PICK, obj.label, position=obj.top_point())


def place_on(obj, label: str | None = None) -> Primitive:
    return Primitive(PrimitiveType.PLACE, label or obj.label, position=obj.top_point())


def scene(sim):
    sim.reset(4, blocks=["red", "blue"], bowls=["green"])
    return sim.find("red block")[0], sim.find("blue block")[0], sim.find("green bowl")[0]


def positions(sim) -> dict[str, np.ndarray]:
    return {o.label: o.position() for o in sim.objects()}


def at_home(sim) -> bool:
    return bool(np.allclose(sim.robot.joints(), HOME, atol=1e-6)) and sim.robot.held is None


def test_pick_and_place_into_bowl(sim, executor):
    red, _, bowl = scene(sim)
    seen = []
    result = executor.execute(plan(pick(red), place_on(bowl)), feedback=lambda i, n, d: seen.append((i, n)))
    assert result.success, result.message
    assert [r.success for r in result.results] == [True, True]
    assert seen == [(0, 2), (1, 2)]
    assert in_bowl(red, bowl) and at_home(sim)


def test_stack_then_push(sim, executor):
    red, blue, _ = scene(sim)
    assert executor.execute(plan(pick(red), place_on(blue))).success
    assert np.linalg.norm(red.position()[:2] - blue.position()[:2]) < 0.01
    assert red.position()[2] == pytest.approx(0.06, abs=0.005)
    _, blue, _ = scene(sim)
    before = blue.position()
    push = Primitive(PrimitiveType.PUSH, "blue block", position=blue.top_point(), direction_word="left",
                     distance=0.08)
    result = executor.execute(plan(push))
    moved = blue.position() - before
    assert result.success and 0.05 < moved[1] < 0.12 and abs(moved[0]) < 0.03


def test_outside_workspace_rejected_before_any_motion(sim, executor):
    red, _, _ = scene(sim)
    start, joints = positions(sim), sim.robot.joints()
    far = Primitive(PrimitiveType.PLACE, "top side", position=np.array([0.95, 0.0, 0.0]))
    result = executor.execute(plan(pick(red), far))
    assert not result.success and [(r.index, r.reason) for r in result.results] == [(1, OUTSIDE)]
    assert np.array_equal(sim.robot.joints(), joints)
    assert all(np.array_equal(start[k], v) for k, v in positions(sim).items())


def test_unreachable_when_the_workspace_is_wider_than_the_arm(sim):
    wide = Executor(sim, workspace=Box3((0.0, -1.0, -0.1), (1.2, 1.0, 1.0)))
    step = Primitive(PrimitiveType.MOVE_TO, "far away", position=np.array([1.05, 0.0, 0.0]))
    result = wide.execute(plan(step))
    assert [r.reason for r in result.results] == [UNREACHABLE]


def test_nothing_grasped_then_recovers(sim, executor):
    red, _, bowl = scene(sim)
    empty = Primitive(PrimitiveType.PICK, "ghost block", position=np.array([0.5, 0.0, 0.04]))
    occupied = any(np.linalg.norm(o.position()[:2] - [0.5, 0.0]) < 0.1 for o in sim.objects())
    assert not occupied
    result = executor.execute(plan(empty, place_on(bowl)))
    assert [(r.index, r.reason) for r in result.results] == [(0, NOTHING_GRASPED)]
    assert at_home(sim)
    assert executor.execute(plan(pick(red), place_on(bowl))).success


def test_dropped_with_a_weak_grip(sim):
    red, _, bowl = scene(sim)
    weak = Executor(sim, grip_force=0.05)  # [N]; the block weighs ~0.5 N
    result = weak.execute(plan(pick(red), place_on(bowl)))
    assert [r.reason for r in result.results] == [DROPPED]
    assert at_home(sim) and red.position()[2] < 0.03  # back on the table


def test_place_with_an_empty_hand_and_missing_position(sim, executor):
    _, _, bowl = scene(sim)
    result = executor.execute(plan(place_on(bowl)))
    assert [r.reason for r in result.results] == [HAND_EMPTY] and at_home(sim)
    result = executor.execute(plan(Primitive(PrimitiveType.PICK, "red block")))
    assert [r.reason for r in result.results] == [NO_TARGET]


def test_refused_plan_moves_nothing(sim, executor):
    scene(sim)
    start = positions(sim)
    refused = Plan("put the purple block in the bowl", PlanStatus.REFUSED, "I can't see a purple block.")
    result = executor.execute(refused)
    assert not result.success and result.results == [] and "REFUSED" in result.message
    assert all(np.array_equal(start[k], v) for k, v in positions(sim).items())


def test_gripper_primitives_and_move_to(sim, executor):
    red, _, _ = scene(sim)
    spot = np.array([0.5, -0.2, 0.0])
    seq = plan(Primitive(PrimitiveType.MOVE_TO, "right side", position=spot),
               Primitive(PrimitiveType.OPEN_GRIPPER), Primitive(PrimitiveType.CLOSE_GRIPPER),
               Primitive(PrimitiveType.HOME))
    assert executor.execute(seq).success and at_home(sim)
    # open_gripper lets a held block fall where the arm is
    assert executor.execute(plan(pick(red))).success and sim.robot.held == red.body_id
    result = executor.execute(plan(Primitive(PrimitiveType.MOVE_TO, "right side", position=spot),
                                   Primitive(PrimitiveType.OPEN_GRIPPER)))
    assert result.success and sim.robot.held is None
    assert np.linalg.norm(red.position()[:2] - spot[:2]) < 0.08 and red.position()[2] < 0.03  # fell 10 cm


def test_whole_workspace_is_reachable(sim):
    motion = ArmMotion(sim.robot, sim.step)
    for x in np.linspace(WORKSPACE.lo[0], WORKSPACE.hi[0], 4):
        for y in np.linspace(WORKSPACE.lo[1], WORKSPACE.hi[1], 4):
            for z in (WORKSPACE.lo[2], WORKSPACE.hi[2] + 0.10):
                q = motion.solve(np.array([x, y, z]))
                assert q is not None and sim.robot.within_limits(q), (x, y, z)
