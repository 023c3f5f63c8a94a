"""Ground → execute → look again → re-plan only what is left, up to `max_attempts` times.

The loop is plain Python: the caller (the grounding node, a test, a bench) passes in how to
ground an instruction, how to execute a plan and how to get a frame taken after a stamp.
Attempt 1 grounds the instruction; its pick→place pairs become the goals. After each
execution the verifier checks the goals on a fresh frame. A failed check, or an executor
failure ("nothing grasped", "dropped"), re-grounds the instruction on the new scene; pairs
whose goal already holds are cut from the new plan, so a step that came true is never
repeated. The loop stops when every goal is verified, on a refusal, on cancel, or after
`max_attempts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlm_ros.core.types import Plan, RGBDFrame
from vlm_ros.grounding.verification import Goal, Verification, Verifier, goals_of, probe_instruction


@dataclass
class Execution:
    """What an executor reported for one plan."""

    success: bool
    message: str
    step_results: list[Any] = field(default_factory=list)  # passed through (ROS StepResult msgs in the node)
    finished_ns: int = 0  # executor clock when the last step ended; 0: unknown
    canceled: bool = False


@dataclass
class Attempt:
    number: int  # 1-based
    plan: Plan  # what was executed (the remaining steps, from attempt 2 on)
    execution: Execution | None = None
    verification: Verification | None = None


@dataclass
class LoopResult:
    success: bool
    message: str
    plan: Plan  # of the last attempt (the first grounding when nothing was executed)
    attempts: list[Attempt] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)

    @property
    def verification(self) -> Verification | None:
        return self.attempts[-1].verification if self.attempts else None

    @property
    def canceled(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].execution is not None and self.attempts[-1].execution.canceled


GroundFn = Callable[[str, int], Plan]  # (instruction, not_before_ns) → plan, grounded on a frame at/after it
ExecuteFn = Callable[[Plan, int], Execution]  # (plan, attempt) → what the executor did
ObserveFn = Callable[[int], RGBDFrame | None]  # not_before_ns → a frame stamped at/after it, or None
EventFn = Callable[[str, int, str, Verification | None], None]  # (stage, attempt, detail, verification)


def remaining(plan: Plan, goals: list[Goal], last: Verification | None, verifier: Verifier) -> Plan:
    """The re-grounded plan without the pick→place pairs that are already done.

    A pair is done when its goal group (same object label and target) was verified in full at
    the last check, or when the new plan itself locates the object already at the target.
    """
    satisfied: dict[tuple[str, str], int] = {}
    needed: dict[tuple[str, str], int] = {}
    done_at: list[np.ndarray] = []  # where the last check found objects that are at their target
    for goal in goals:
        needed[(goal.obj, goal.target)] = needed.get((goal.obj, goal.target), 0) + 1
    if last is not None:
        for finding in last.findings:
            if finding.satisfied:
                key = (finding.goal.obj, finding.goal.target)
                satisfied[key] = satisfied.get(key, 0) + 1
                if finding.object_position is not None:
                    done_at.append(np.asarray(finding.object_position))
    near = verifier.tolerances.block_size
    drop: set[int] = set()
    for pair in goals_of(plan):
        key = (pair.obj, pair.target)
        pick, place = plan.steps[pair.pick_step], plan.steps[pair.place_step]
        group_done = key in needed and satisfied.get(key, 0) >= needed[key]
        already_there = pick.position is not None and (
            any(np.hypot(*(pick.position[:2] - d[:2])) < near for d in done_at)
            or (place.position is not None and verifier.holds(pair.relation, pick.position, place.position)[0]))
        if group_done or already_there:
            drop |= {pair.pick_step, pair.place_step}
    steps = [step for index, step in enumerate(plan.steps) if index not in drop]
    message = plan.message if not drop else f"{len(steps)} steps left to do ({len(drop)} already done)."
    return Plan(plan.instruction, plan.status, message, steps, plan.model_id, plan.raw_output,
                dict(plan.latency_ms), plan.stamp_ns, plan.frame_id)


def replan_instruction(instruction: str, goals: list[Goal], last: Verification | None) -> str:
    """What to ground again: only the goals the last check found unmet, phrased the way every grounder
    knows ("put the blue block in the red bowl"), or the whole instruction when nothing was checked.

    Re-grounding the whole instruction would also point at objects already in place, which the shipped
    model, trained on scenes before anything moved, often refuses not to see."""
    if last is None or not last.checked:
        return instruction
    groups: dict[tuple[str, str], list[Goal]] = {}
    for goal in goals:
        groups.setdefault((goal.obj, goal.target), []).append(goal)
    unmet = {(f.goal.obj, f.goal.target) for f in last.findings if not f.satisfied}
    parts = [probe_instruction(group[0], plural=len(group) > 1) for key, group in groups.items() if key in unmet]
    return ", then ".join(parts) if parts else instruction


class ClosedLoop:
    """One instruction, carried out until verified or out of attempts."""

    def __init__(self, ground: GroundFn, execute: ExecuteFn, observe: ObserveFn, verifier: Verifier | None,
                 max_attempts: int = 1, on_event: EventFn | None = None):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.ground, self.execute, self.observe = ground, execute, observe
        self.verifier = verifier  # None: trust the executor's report (no looking again)
        self.max_attempts = max_attempts
        self.on_event = on_event or (lambda stage, attempt, detail, verification: None)

    def run(self, instruction: str, not_before_ns: int = 0, plan: Plan | None = None) -> LoopResult:
        """Carry out `instruction`; `plan`: its first grounding when the caller already has it."""
        plan = plan if plan is not None else self.ground(instruction, not_before_ns)
        if not plan.ok:
            return LoopResult(False, plan.message, plan)
        goals = goals_of(plan)
        result = LoopResult(False, "", plan, goals=goals)
        last: Verification | None = None
        after_ns = not_before_ns  # re-plans ground on frames stamped at or after this
        for number in range(1, self.max_attempts + 1):
            if number > 1:
                text = replan_instruction(instruction, goals, last)
                self.on_event("replanning", number, text, None)
                plan = self.ground(text, after_ns)
                if not plan.ok:
                    result.message = f"Attempt {number}: re-planning gave {plan.status.value}: {plan.message}"
                    return result
                if self.verifier is not None:
                    plan = remaining(plan, goals, last, self.verifier)
                if not plan.steps:
                    result.message = (f"Attempt {number}: the new plan finds nothing left to do, but the last "
                                      f"check said: {last.message if last else result.message}")
                    return result
            attempt = Attempt(number, plan)
            result.attempts.append(attempt)
            result.plan = plan
            attempt.execution = execution = self.execute(plan, number)
            if execution.canceled:
                result.message = f"Canceled during attempt {number}: {execution.message}"
                return result
            after_ns = execution.finished_ns
            if self.verifier is None or not goals:
                result.success, result.message = execution.success, execution.message
                if execution.success:
                    return result
            else:
                self.on_event("verifying", number, execution.message, None)
                last = attempt.verification = self.verifier.verify(self.observe(after_ns), goals, number)
                if last.stamp_ns:
                    after_ns = max(after_ns, last.stamp_ns)
                self.on_event("verified", number, last.message, last)
                result.success = last.verified
                prefix = "" if execution.success else f"The executor reported: {execution.message} "
                result.message = prefix + last.message
                if last.verified:
                    return result
                if not last.checked:
                    return result  # no frame to judge by: re-planning would act blind
        if self.max_attempts > 1:
            result.message = f"Gave up after {self.max_attempts} attempts. Last: {result.message}"
        return result
