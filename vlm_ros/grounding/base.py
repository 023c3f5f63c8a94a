"""The one interface every grounder (model backend + prompt + parser) implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from vlm_ros.grounding.program import Program


@dataclass
class GroundingResult:
    """What a grounder returns: a parsed program with pixel points in the input image."""

    program: Program
    raw_output: str
    latency_ms: dict[str, float] = field(default_factory=dict)  # stage -> ms
    note: str = ""  # said in the plan's message, e.g. which backend answered after a remote failure


class Grounder(Protocol):
    """Image + instruction → program with pixel points. Knows nothing of depth or ROS."""

    model_id: str

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        """rgb: [H, W, 3] uint8. Raises ModelOutputError when the output is unusable."""
        ...
