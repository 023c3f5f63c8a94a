"""A grounder for tests of the plumbing only: it returns a program it was given.

Named so that nobody mistakes it for a model. Node and pipeline tests use it where the
behaviour under test does not depend on what a model sees (bad frames, bad
instructions, validation); model behaviour is tested against the real shipped model.
"""

from __future__ import annotations

import time

import numpy as np

from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.labels import TABLETOP_VOCABULARY
from vlm_ros.grounding.program import parse_program


class FixedProgramTestGrounder:
    """Returns `program` for every instruction, parsed by the real parser."""

    def __init__(self, program: str, vocabulary: frozenset[str] | None = TABLETOP_VOCABULARY):
        self.program = program
        self.model_id = "test-fixed-program"
        self.vocabulary = vocabulary

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        start = time.perf_counter()
        parsed = parse_program(self.program)
        return GroundingResult(parsed, self.program, {"decode": (time.perf_counter() - start) * 1e3})
