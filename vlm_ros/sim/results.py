"""What executing a plan reports: per-step outcomes with a short reason on failure."""

from __future__ import annotations

from dataclasses import dataclass, field

# StepResult.reason values; the ROS StepResult.message carries them
UNREACHABLE = "unreachable"
NOTHING_GRASPED = "nothing grasped"
DROPPED = "dropped"
OUTSIDE = "outside workspace"
NO_TARGET = "no target"
HAND_EMPTY = "not holding anything"
HAND_FULL = "already holding something"
BAD_PUSH = "bad push direction"
CANCELLED = "cancelled"


@dataclass
class StepResult:
    index: int  # into Plan.steps
    success: bool
    reason: str = ""  # "" on success, else one of the constants above
    detail: str = ""  # a sentence for people and logs


@dataclass
class ExecutionResult:
    success: bool
    message: str
    results: list[StepResult] = field(default_factory=list)
    cancelled: bool = False  # stopped on request; the arm halted where it was


class StepFailed(Exception):
    """A primitive could not be carried out; `reason` is one of the constants above."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail
