"""The `oracle` backend: plans from the simulator's ground truth instead of a model.

The sim bridge publishes the ground-truth program (pixel points included) on
`oracle/program` after each reset; this grounder returns it, and the node then projects
and validates it like any model output. Benchmarks use it to measure everything except
the model: camera topics, depth projection, validation, execution.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.labels import TABLETOP_VOCABULARY
from vlm_ros.grounding.program import parse_program


class OracleGrounder:
    def __init__(self) -> None:
        self.model_id = "oracle (simulator ground truth)"
        self.vocabulary = TABLETOP_VOCABULARY  # the sim's objects
        self._program = ""
        self._lock = threading.Lock()

    def set_program(self, program: str) -> None:
        with self._lock:
            self._program = program

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        start = time.perf_counter()
        with self._lock:
            program = self._program
        if not program:
            raise ModelOutputError("the oracle has no program yet: is the sim bridge publishing oracle/program?")
        return GroundingResult(parse_program(program), program, {"decode": (time.perf_counter() - start) * 1e3})
