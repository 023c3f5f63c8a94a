"""The `oracle` backend: plans from the simulator's ground truth instead of a model.

The sim bridge publishes the ground-truth program (pixel points included) on
`oracle/program` after each reset; this grounder returns it, and the node then projects
and validates it like any model output. Benchmarks use it to measure everything except
the model: camera topics, depth projection, validation, execution.

With `oracle_format: FAMILY` it instead plays a VLM of that family: the instruction is parsed
by the open-vocabulary parser, each phrase is answered from the ground truth in the family's
syntax and frame (vlm_ros.grounding.oracle_pointer), and the family's own parser reads it back.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.labels import TABLETOP_VOCABULARY
from vlm_ros.grounding.program import Program, parse_program

PROGRAM_WAIT_S = 5.0  # the latched program reaches a node that just started a moment after its first frames


class OracleGrounder:
    def __init__(self, oracle_format: str = "", planning: str = "per_phrase") -> None:
        self.model_id = "oracle (simulator ground truth)"
        self.vocabulary = TABLETOP_VOCABULARY  # the sim's objects
        self._program = ""
        self._lock = threading.Lock()
        self._has_program = threading.Event()
        self._family = None
        if oracle_format:
            from vlm_ros.families import get_family
            from vlm_ros.grounding.oracle_pointer import OraclePointer
            from vlm_ros.grounding.single_call import make_planner

            adapter = get_family(oracle_format)
            self.model_id = f"oracle (simulator ground truth, {adapter.name} format)"
            self._family = make_planner(adapter, OraclePointer(self._ground_truth), self.model_id,
                                        planning or "per_phrase")
            self.model_id = self._family.model_id
            self.open_vocabulary = True

    def set_program(self, program: str) -> None:
        with self._lock:
            self._program = program
        self._has_program.set()

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        start = time.perf_counter()
        self._has_program.wait(PROGRAM_WAIT_S)  # a request right after start-up: the program is on its way
        with self._lock:
            program = self._program
        if not program:
            raise ModelOutputError(f"the oracle has no program after {PROGRAM_WAIT_S:.0f} s: "
                                   "is the sim bridge publishing oracle/program?")
        if self._family is not None:
            return self._family.ground(rgb, instruction)
        return GroundingResult(parse_program(program), program, {"decode": (time.perf_counter() - start) * 1e3})

    def _ground_truth(self) -> Program:
        with self._lock:
            return parse_program(self._program)
