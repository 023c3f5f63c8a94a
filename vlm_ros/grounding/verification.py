"""Did it work? Look again after execution and check the instruction's goals with the grounder.

A plan's goals are its pick→place pairs: "the red block must end in the green bowl". After the
executor reports, a fresh frame is grounded with a short instruction per goal that any grounder
understands ("put the red block in the green bowl"): its pick point says where the object is
now, its place point where the target is. Both are lifted to 3D with depth, and the goal holds
when the object sits in/on/at the target within tolerances derived from the object sizes.

The verifier needs only the Grounder protocol (image + instruction → program with pixels), so
the default model and any family adapter that points at phrases work alike. No ROS here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vlm_ros.core.errors import VlmRosError
from vlm_ros.core.types import Plan, PrimitiveType, RGBDFrame
from vlm_ros.core.vocabulary import LOCATION_SYNONYMS, LOCATIONS, OBJECT_KINDS
from vlm_ros.geometry.projection import Projector
from vlm_ros.grounding.base import Grounder
from vlm_ros.grounding.color_locator import ColorDepthLocator, label_parts

IN, ON, AT = "in", "on", "at"  # relations: in a bowl, on top of a block, at a named location or point
LOCATORS = ("auto", "grounder", "color")  # how objects are found again; see Verifier


@dataclass(frozen=True)
class Tolerances:
    """Sizes the checks are derived from [m]; the defaults are the sim's 4 cm blocks and 14 cm bowls."""

    block_size: float = 0.04  # edge of the objects that are picked
    bowl_diameter: float = 0.14  # outer
    bowl_floor: float = 0.006  # thickness of a bowl's floor: a block in a bowl stands this high
    location_radius: float = 0.04  # a block this close to a named location is at it

    @property
    def in_bowl(self) -> float:
        """Largest horizontal offset of a block's centre from a bowl's: inside the wall, with slack."""
        return self.bowl_diameter / 2.0 - 0.4 * self.block_size

    @property
    def on_block(self) -> float:
        """Largest horizontal offset of a stacked block from the one below: half an edge."""
        return self.block_size / 2.0

    @property
    def height(self) -> float:
        """Slack on a top surface's height [m]: a quarter edge."""
        return self.block_size / 4.0


@dataclass(frozen=True)
class Goal:
    """One pick-and-place of a plan: `obj` must end `relation` `target`."""

    pick_step: int  # index into the plan's steps
    place_step: int
    obj: str  # "red block"
    target: str  # "green bowl", "blue block", "top left corner"
    relation: str  # IN | ON | AT
    target_position: tuple[float, float, float] | None = None  # the plan's place point [m, base frame]


@dataclass
class Finding:
    """What the check found for one goal."""

    goal: Goal
    satisfied: bool
    message: str
    object_position: np.ndarray | None = None  # [3] m, base frame; None if not found
    target_position: np.ndarray | None = None
    distance: float = float("nan")  # horizontal, object to target [m]
    tolerance: float = float("nan")  # [m]


@dataclass
class Verification:
    """The result of looking again: verified only when every goal was checked and holds."""

    checked: bool  # False: nothing in the plan could be checked (no pick→place pair) or no frame
    verified: bool
    message: str
    findings: list[Finding] = field(default_factory=list)
    stamp_ns: int = 0  # of the frame looked at
    attempt: int = 1


def relation_of(target: str) -> str:
    """IN for bowls, ON for blocks, AT for named locations and anything else."""
    words = target.lower().split()
    kind = next((k for k, synonyms in OBJECT_KINDS.items() if words and words[-1] in synonyms), None)
    if LOCATION_SYNONYMS.get(target.lower().strip()) or kind is None:
        return AT
    return IN if kind == "bowl" else ON


def goals_of(plan: Plan) -> list[Goal]:
    """Each pick with the place that follows it; picks never placed and lone places are not goals."""
    goals, pick = [], None
    for index, step in enumerate(plan.steps):
        if step.type is PrimitiveType.PICK:
            pick = index
        elif step.type is PrimitiveType.PLACE and pick is not None:
            position = tuple(float(v) for v in step.position) if step.position is not None else None
            goals.append(Goal(pick, index, plan.steps[pick].target_label, step.target_label,
                              relation_of(step.target_label), position))
            pick = None
    return goals


def probe_instruction(goal: Goal, plural: bool = False) -> str:
    """A short instruction every grounder of this package knows, pointing at the goal's object(s) and target."""
    obj = f"the {goal.obj}"
    if plural:
        *color, kind = goal.obj.split()
        obj = f"all the {' '.join(color)} {kind}es" if kind.endswith("x") else f"all the {' '.join(color)} {kind}s"
    if goal.relation == IN:
        return f"put {obj} in the {goal.target}"
    if goal.relation == ON:
        return f"put {obj} on the {goal.target}"
    return f"move {obj} to the {goal.target}"


class Verifier:
    """Checks a plan's goals on a frame, with the same grounder and projection that made the plan."""

    """Checks a plan's goals on a frame, with the same grounder and projection that made the plan.

    locator: "grounder" re-points at every object with the grounder (any family that points at
    phrases); "color" measures vocabulary objects by colour and depth (ColorDepthLocator);
    "auto" measures vocabulary labels and re-points at everything else.
    """

    def __init__(self, grounder: Grounder, projector: Projector, tolerances: Tolerances | None = None,
                 table_height: float = 0.0, locations: dict[str, tuple[float, float]] | None = None,
                 locator: str = "auto"):
        if locator not in LOCATORS:
            raise ValueError(f"unknown verification locator {locator!r}; known: {', '.join(LOCATORS)}")
        self.grounder = grounder
        self.projector = projector
        self.tolerances = tolerances or Tolerances()
        self.table_height = table_height  # [m], base frame
        self.locations = dict(LOCATIONS if locations is None else locations)
        self.locator = locator
        self.color = ColorDepthLocator(projector, self.tolerances.block_size, self.tolerances.bowl_diameter,
                                       table_height=table_height)

    # --- geometry: does an object at `obj` satisfy the goal with the target at `target`? -------------
    def holds(self, relation: str, obj: np.ndarray, target: np.ndarray) -> tuple[bool, float, float, str]:
        """(satisfied, horizontal distance, tolerance, why not) for one object point (its top surface)."""
        tol = self.tolerances
        distance = float(np.hypot(*(np.asarray(obj)[:2] - np.asarray(target)[:2])))
        height = float(obj[2]) - self.table_height  # of the object's top surface above the table
        if relation == IN:
            limit = tol.in_bowl
            if distance >= limit:
                return False, distance, limit, f"{distance * 100:.1f} cm from the bowl's centre"
            if height > 2.0 * tol.block_size + tol.height:
                return False, distance, limit, f"resting {height * 100:.1f} cm high, on top of something"
            return True, distance, limit, ""
        if relation == ON:
            limit = tol.on_block
            if abs(height - 2.0 * tol.block_size) > tol.height:
                return False, distance, limit, f"its top is {height * 100:.1f} cm above the table, not on a block"
            if distance >= limit:
                return False, distance, limit, f"{distance * 100:.1f} cm off the lower block's axis"
            return True, distance, limit, ""
        limit = tol.location_radius
        if distance >= limit:
            return False, distance, limit, f"{distance * 100:.1f} cm from the spot"
        if height > tol.block_size + tol.height:
            return False, distance, limit, f"resting {height * 100:.1f} cm high, on top of something"
        return True, distance, limit, ""

    # --- perception -------------------------------------------------------------------------------
    def measures(self, goal: Goal) -> bool:
        """Whether this goal's objects are measured by colour and depth rather than re-pointed at."""
        if self.locator == "grounder":
            return False
        vocabulary = label_parts(goal.obj) is not None and (goal.relation == AT or label_parts(goal.target))
        return self.locator == "color" or bool(vocabulary)

    def locate(self, frame: RGBDFrame, goal: Goal, plural: bool = False,
               ) -> tuple[list[np.ndarray], np.ndarray | None, str]:
        """(points of objects labelled goal.obj, the target's point, problem) on this frame."""
        assert frame.depth is not None and frame.intrinsics is not None
        if self.measures(goal):
            return self.measure(frame, goal)
        try:
            result = self.grounder.ground(frame.rgb, probe_instruction(goal, plural))
        except VlmRosError as error:
            return [], None, f"the grounder failed: {error}"
        program = result.program
        if program.refused:
            return [], None, f"the {program.refused_label} is not in view"
        objects, target = [], None
        for step in program.steps:
            if step.pixel is None:
                continue
            try:
                point = self.projector.to_base(step.pixel[0], step.pixel[1], frame.depth, frame.intrinsics)
            except VlmRosError:
                continue
            if step.type is PrimitiveType.PICK and step.target_label == goal.obj:
                objects.append(point)
            elif step.type is PrimitiveType.PLACE and target is None and goal.relation != AT:
                target = point
        if goal.relation == AT:
            target = self._location(goal)
        if not objects:
            return [], target, f"the grounder did not point at the {goal.obj}"
        if target is None:
            return objects, None, f"the grounder did not point at the {goal.target}"
        return objects, target, ""

    def measure(self, frame: RGBDFrame, goal: Goal) -> tuple[list[np.ndarray], np.ndarray | None, str]:
        """locate() by colour and depth. A lower block whose top is hidden under the object is taken
        where the plan found it; a bowl is the one seen nearest to where the plan placed."""
        objects = self.color.locate(frame, goal.obj)
        planned = np.array(goal.target_position) if goal.target_position is not None else None
        if goal.relation == AT:
            target = self._location(goal)
        elif goal.relation == ON and planned is not None:
            target = planned
        else:
            seen = self.color.locate(frame, goal.target)
            if seen and planned is not None:
                target = min(seen, key=lambda t: float(np.hypot(*(t[:2] - planned[:2]))))
            else:
                target = seen[0] if seen else planned
        if not objects:
            return [], target, f"no {goal.obj} is in view"
        if target is None:
            return objects, None, f"no {goal.target} is in view"
        return objects, target, ""

    def _location(self, goal: Goal) -> np.ndarray | None:
        key = LOCATION_SYNONYMS.get(goal.target.lower().strip())
        if key in self.locations:
            x, y = self.locations[key]
            return np.array([x, y, self.table_height])
        return np.array(goal.target_position) if goal.target_position is not None else None

    def check_group(self, frame: RGBDFrame, goals: list[Goal]) -> list[Finding]:
        """Findings for goals sharing one object label and target ("all the red blocks"): the n best
        distinct objects of that label stand for the n goals."""
        goal = goals[0]
        objects, target, problem = self.locate(frame, goal, plural=len(goals) > 1)
        if problem:
            return [Finding(g, False, problem, objects[0] if objects else None, target) for g in goals]
        distinct: list[np.ndarray] = []
        for point in sorted(objects, key=lambda o: float(np.hypot(*(o[:2] - target[:2])))):
            if all(np.hypot(*(point[:2] - d[:2])) > 0.75 * self.tolerances.block_size for d in distinct):
                distinct.append(point)
        if goal.relation == IN:  # blocks piled in a bowl hide the ones below: count them by height
            distinct = [d for d in distinct for _ in range(self.layers(d))]
        findings = []
        for index, g in enumerate(goals):
            if index >= len(distinct):
                findings.append(Finding(g, False, f"only {len(distinct)} {g.obj}(s) found, {len(goals)} expected",
                                        None, target))
                continue
            ok, distance, limit, why = self.holds(g.relation, distinct[index], target)
            message = (f"the {g.obj} is {g.relation} the {g.target}" if ok
                       else f"the {g.obj} is not {g.relation} the {g.target}: {why}")
            findings.append(Finding(g, ok, message, distinct[index], target, distance, limit))
        return findings

    def layers(self, block_top: np.ndarray) -> int:
        """How many blocks lie flat in a pile whose top is at this height (>= 1): a top within a quarter
        edge of a whole number of edges above a bowl's floor. A block tilted on a rim is not a pile."""
        tol = self.tolerances
        height = float(block_top[2]) - self.table_height - tol.bowl_floor
        count = int(round(height / tol.block_size))
        return count if count > 1 and abs(height - count * tol.block_size) <= tol.height else 1

    def verify(self, frame: RGBDFrame | None, goals: list[Goal], attempt: int = 1) -> Verification:
        """Check every goal on `frame` (taken after the last step)."""
        if frame is None or frame.depth is None or frame.intrinsics is None:
            return Verification(False, False, "No fresh RGB-D frame to verify on.", attempt=attempt)
        if not goals:
            return Verification(False, False, "Nothing to verify: the plan has no pick-and-place.",
                                stamp_ns=frame.stamp_ns, attempt=attempt)
        groups: dict[tuple[str, str], list[Goal]] = {}
        for goal in goals:
            groups.setdefault((goal.obj, goal.target), []).append(goal)
        by_goal = {id(f.goal): f for group in groups.values() for f in self.check_group(frame, group)}
        findings = [by_goal[id(goal)] for goal in goals]
        failed = [f for f in findings if not f.satisfied]
        message = ("Verified: " + "; ".join(f.message for f in findings) + "." if not failed
                   else "Not verified: " + "; ".join(f.message for f in failed) + ".")
        return Verification(True, not failed, message, findings, frame.stamp_ns, attempt)
