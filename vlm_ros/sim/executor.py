"""Runs a Plan's primitives on the simulated Panda and says, per step, what happened.

Every target is checked (inside the workspace, reachable) before the arm moves at
all; a failing step stops the plan, and the arm always ends released and at home
(or at home still holding what it picked, when the plan succeeded) so the next
plan can run.

A cancel (should_stop() turning true) is checked between steps and at every motion
waypoint within them: the arm halts where it is and holds its posture, and suction is
HELD, so a carried block is not dropped onto whatever is below; no recovery motion
follows (nothing moves after a cancel). The next plan starts from there.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType
from vlm_ros.core.vocabulary import DIRECTIONS
from vlm_ros.sim.faults import FaultInjector
from vlm_ros.sim.grasp import Gripper
from vlm_ros.sim.motion import ArmMotion, MotionStopped, up
from vlm_ros.sim.results import (
    BAD_PUSH,
    CANCELLED,
    HAND_EMPTY,
    HAND_FULL,
    NO_TARGET,
    NOTHING_GRASPED,
    OUTSIDE,
    UNREACHABLE,
    ExecutionResult,
    StepFailed,
    StepResult,
)
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.workspace import WORKSPACE, Box3

APPROACH = 0.10  # tool clearance above a target before descending [m]
PUSH_DISTANCE = 0.10  # default push length [m]
PUSH_BACKOFF = 0.05  # the push starts this far behind the object's centre [m]
PUSH_HEIGHT = 0.012  # fingertip height above the target's base while pushing [m]
PLACE_GAP = 0.01  # a placed object is let go this far above its target [m]


Feedback = Callable[[int, int, str], None]  # (step index, total steps, detail)


class Executor:
    """Executes plans in a TabletopSim; construct once per sim."""

    def __init__(self, sim: TabletopSim, approach: float = APPROACH, grip_force: float = 200.0,
                 workspace: Box3 = WORKSPACE, faults: FaultInjector | None = None):
        self.sim = sim
        self.faults = faults or FaultInjector()  # none configured: a perfect arm
        self.approach = approach  # [m]
        self.workspace = workspace  # targets outside it are rejected before any motion
        self.motion = ArmMotion(sim.robot, sim.step)
        self.gripper = Gripper(sim, self.motion, grip_force)

    # --- plans ----------------------------------------------------------------------------
    def execute(self, plan: Plan, feedback: Feedback | None = None,
                should_stop: Callable[[], bool] | None = None) -> ExecutionResult:
        """Run every step in order; stop at the first failure and recover, or halt at once on should_stop()."""
        with self._stoppable(should_stop or (lambda: False)):
            return self._execute(plan, feedback, self.motion.should_stop)

    @contextmanager
    def _stoppable(self, should_stop: Callable[[], bool]):
        self.motion.should_stop = should_stop
        try:
            yield
        finally:
            self.motion.should_stop = lambda: False

    def _execute(self, plan: Plan, feedback: Feedback | None, should_stop: Callable[[], bool]) -> ExecutionResult:
        if plan.status is not PlanStatus.OK:
            return ExecutionResult(False, f"plan is {plan.status.value}, nothing moved: {plan.message}")
        for i, step in enumerate(plan.steps):
            try:
                self.check(step)
            except StepFailed as err:
                return ExecutionResult(False, f"step {i + 1} rejected, nothing moved: {err.detail}",
                                       [StepResult(i, False, err.reason, err.detail)])
        results: list[StepResult] = []
        self.faults.start_plan()
        for i, step in enumerate(plan.steps):
            if should_stop():
                return self._cancelled(i, "before it started", results)
            if feedback is not None:
                feedback(i, len(plan.steps), step.describe())
            try:
                self.run_step(step)
            except MotionStopped:
                return self._cancelled(i, "during its motion", results)
            except StepFailed as err:
                results.append(StepResult(i, False, err.reason, err.detail))
                try:
                    self.recover()
                except MotionStopped:
                    return self._cancelled(i, "while recovering from a failure", results[:-1])
                return ExecutionResult(False, f"step {i + 1} ({step.type.value}) failed: {err.detail}", results)
            results.append(StepResult(i, True, "", f"{step.type.value} done"))
        try:
            self.motion.home()
        except MotionStopped:
            self.motion.halt()
            return ExecutionResult(False, f"all {len(results)} steps done; cancelled on the way home, the arm "
                                   "halted where it was", results, cancelled=True)
        return ExecutionResult(True, f"all {len(results)} steps done", results)

    def _cancelled(self, index: int, when: str, results: list[StepResult]) -> ExecutionResult:
        self.motion.halt()
        held = f"; still holding the {self.gripper.held.label}" if self.gripper.held is not None else ""
        results.append(StepResult(index, False, CANCELLED, f"cancelled {when}; the arm halted{held}"))
        return ExecutionResult(False, f"cancelled at step {index + 1} ({when}) after {index} step(s) done; "
                               f"the arm halted where it was{held}", results, cancelled=True)

    def scene_reset(self) -> None:
        """Forget what the gripper held: a scene reset drops every weld (a cancel may have left one)."""
        self.gripper.held = None

    def recover(self) -> None:
        """Let go of anything held and go home: a state every plan can start from."""
        self.gripper.release()
        self.motion.move_line(self.motion.tip() + np.array([0.0, 0.0, 0.05]))
        self.motion.home()

    # --- checks before motion -------------------------------------------------------------
    def check(self, step: Primitive) -> None:
        """Raise StepFailed when a step's target is missing, outside the workspace or unreachable."""
        if not step.type.needs_target:
            return
        if step.position is None:
            raise StepFailed(NO_TARGET, f"{step.type.value}({step.target_label}) has no position")
        points = [np.asarray(step.position, dtype=float)]
        if step.type is PrimitiveType.PUSH:
            start, end = self._push_path(step)
            points += [start, end]
        for point in points:
            if not self.workspace.contains(point):
                raise StepFailed(OUTSIDE, f"{step.target_label or 'the target'} at "
                                 f"({point[0]:.2f}, {point[1]:.2f}, {point[2]:.2f}) m is outside the workspace")
            for lift in (0.0, self.approach):
                if self.motion.solve(point + up(lift)) is None:
                    raise StepFailed(UNREACHABLE, f"the arm cannot reach {step.target_label or 'the target'}")

    # --- primitives -----------------------------------------------------------------------
    def run_step(self, step: Primitive) -> None:
        """One primitive; raises StepFailed with the reason when it does not work out."""
        kind = step.type
        if kind is PrimitiveType.HOME:
            self.motion.home()
        elif kind is PrimitiveType.OPEN_GRIPPER:
            self.gripper.open()
        elif kind is PrimitiveType.CLOSE_GRIPPER:
            self.gripper.close()
        elif kind is PrimitiveType.PICK:
            self._pick(np.asarray(step.position, dtype=float), step.target_label)
        elif kind is PrimitiveType.PLACE:
            self._place(np.asarray(step.position, dtype=float), step.target_label)
        elif kind is PrimitiveType.PUSH:
            self._push(step)
        elif kind is PrimitiveType.MOVE_TO:
            self._over(np.asarray(step.position, dtype=float) + up(self.approach))

    def _over(self, point: np.ndarray) -> None:
        """Travel to `point` above the table: up first, then across at height."""
        tip = self.motion.tip()
        if tip[2] < point[2] - 1e-3:
            self._line(np.array([tip[0], tip[1], point[2]]))
        goal = self.motion.solve(point)
        if goal is None:
            raise StepFailed(UNREACHABLE, f"the arm cannot reach ({point[0]:.2f}, {point[1]:.2f}) m")
        if self.gripper.held is None or not self.motion.move_line(point):
            self.motion.move_joints(goal)  # empty-handed, a joint-space swing from high up is safe
        self.gripper.check_held()

    def _line(self, point: np.ndarray) -> None:
        if not self.motion.move_line(point):
            raise StepFailed(UNREACHABLE, f"the arm cannot reach ({point[0]:.2f}, {point[1]:.2f}) m")

    def _pick(self, target: np.ndarray, label: str) -> None:
        if self.gripper.held is not None:
            raise StepFailed(HAND_FULL, f"cannot pick {label or 'it'}: already holding something")
        above = target + up(self.approach)
        self._over(above)
        if not self.gripper.suck_down(target) or self.faults.pick_missed():
            self.gripper.release()
            self._line(above)
            raise StepFailed(NOTHING_GRASPED, f"nothing to grasp at the {label or 'target'}")
        self._line(above)
        self.gripper.check_held()

    def _place(self, target: np.ndarray, label: str) -> None:
        if self.gripper.held is None:
            raise StepFailed(HAND_EMPTY, f"cannot place on {label or 'the target'}: not holding anything")
        hang = self.gripper.hang()
        target = target + self.faults.place_offset()
        above = target + up(self.approach + hang)
        slip = self.faults.slip_point(self.motion.tip(), above)
        if slip is not None:  # injected: the block comes off on the way; check_held notices
            self._over(slip)
            self.faults.drop(self.sim)
            self.gripper.check_held()
        self._over(above)
        self.gripper.lower_onto(target + up(hang + PLACE_GAP))
        placed = self.gripper.held
        self.gripper.release(settle=True)
        self._line(above)
        if placed is not None:
            self.faults.nudge_after_place(self.sim, placed.body_id)

    def _push_path(self, step: Primitive) -> tuple[np.ndarray, np.ndarray]:
        """Fingertip start and end points of a push, at push height [m]."""
        if step.direction is not None and np.linalg.norm(step.direction[:2]) > 1e-6:
            direction = np.asarray(step.direction, dtype=float)[:2]
        elif step.direction_word in DIRECTIONS:
            direction = np.array(DIRECTIONS[step.direction_word], dtype=float)
        else:
            raise StepFailed(BAD_PUSH, f"unknown push direction {step.direction_word!r}")
        direction = np.append(direction / np.linalg.norm(direction), 0.0)
        distance = step.distance if step.distance > 0 else PUSH_DISTANCE
        centre = np.asarray(step.position, dtype=float) * [1.0, 1.0, 0.0] + up(PUSH_HEIGHT)
        return centre - PUSH_BACKOFF * direction, centre + (distance - PUSH_BACKOFF / 2) * direction

    def _push(self, step: Primitive) -> None:
        if self.gripper.held is not None:
            raise StepFailed(HAND_FULL, "cannot push while holding something")
        start, end = self._push_path(step)
        self.gripper.close()
        self._over(start + up(self.approach))
        self._line(start)
        if not self.motion.move_line(end, step=0.005):
            self._line(self.motion.tip() + up(self.approach))
            raise StepFailed(UNREACHABLE, "the push leaves the arm's reach")
        self._line(end + up(self.approach))
