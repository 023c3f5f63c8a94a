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
    preprocess: str = ""  # how the image was fitted to the model's input (crop/letterbox), for debug output
    note: str = ""  # said in the plan's message, e.g. which backend answered after a remote failure


class Grounder(Protocol):
    """Image + instruction → program with pixel points. Knows nothing of depth or ROS."""

    model_id: str
    # Labels an OK plan may carry: a closed world (the tabletop model's colours x block/bowl), or None
    # for open-vocabulary models, whose labels must then be words of the instruction. Grounders that
    # declare nothing are held to the tabletop world (vlm_ros.grounding.labels.TABLETOP_VOCABULARY).
    vocabulary: frozenset[str] | None

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        """rgb: [H, W, 3] uint8. Raises ModelOutputError when the output is unusable."""
        ...
