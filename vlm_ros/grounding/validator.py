"""Safety checks between the model and the robot: every target inside the workspace.

A plan that fails here is REFUSED with a sentence naming the step and the reason, so
nothing moves. Limits come from parameters; defaults fit the sim's tabletop cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vlm_ros.core.errors import GroundingRefusal
from vlm_ros.core.types import Primitive, PrimitiveType


@dataclass
class Workspace:
    """Axis-aligned box in the base frame [m] plus a reach annulus around the base."""

    x_range: tuple[float, float] = (0.28, 0.70)
    y_range: tuple[float, float] = (-0.32, 0.32)
    z_range: tuple[float, float] = (-0.02, 0.20)
    min_reach: float = 0.20
    max_reach: float = 0.80

    def problem_with(self, point: np.ndarray) -> str | None:
        """None when the point is fine, else why not (a phrase)."""
        if not np.all(np.isfinite(point)):
            return "has no finite position"
        x, y, z = (float(v) for v in point)
        for name, value, (low, high) in (("x", x, self.x_range), ("y", y, self.y_range), ("z", z, self.z_range)):
            if not low <= value <= high:
                return f"is outside the workspace ({name} = {value:.2f} m, allowed {low:.2f} to {high:.2f} m)"
        reach = float(np.hypot(x, y))
        if not self.min_reach <= reach <= self.max_reach:
            return f"is out of the arm's reach ({reach:.2f} m from the base)"
        return None


def validate_steps(steps: list[Primitive], workspace: Workspace) -> None:
    """Raise GroundingRefusal for the first step whose target cannot be reached."""
    if not steps:
        raise GroundingRefusal("The instruction did not lead to any action.")
    for index, step in enumerate(steps, start=1):
        if step.type.needs_target and step.position is None:
            raise GroundingRefusal(f"Step {index} ({step.type.value} {step.target_label}) has no target position.")
        if step.position is None:
            continue
        problem = workspace.problem_with(step.position)
        if problem:
            raise GroundingRefusal(f"The {step.target_label or 'target'} of step {index} {problem}.")
        end = push_end(step)
        problem = workspace.problem_with(end) if end is not None else None
        if problem:
            raise GroundingRefusal(f"Step {index} would push the {step.target_label} to a point that {problem}.")


def push_end(step: Primitive) -> np.ndarray | None:
    """Where a push leaves its object [m, base frame]; None for other steps.

    The end point is a target like any other: a push toward the table's edge must be refused
    before the arm moves, not discovered by the executor halfway.
    """
    if step.type is not PrimitiveType.PUSH or step.position is None:
        return None
    if step.direction is None:
        return np.full(3, np.nan)  # a push without a direction has no end the arm could check
    return np.asarray(step.position, dtype=float) + float(step.distance) * np.asarray(step.direction, dtype=float)
