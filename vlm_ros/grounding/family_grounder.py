"""Open-vocabulary grounding with any VLM family: parse the instruction, ask the VLM to point at
each phrase, and write the same Program the default model writes (pixels of the input image).

The VLM is behind a `Pointer` (one call per phrase: image + family prompt → raw text), so the
transformers backend, a remote server and the sim oracle share this logic and the family's
real parser. A phrase the VLM says it cannot find becomes a refusal ("I can't see a blue mug
here."); an answer with no coordinates at all is a model-output error with the raw text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.core.types import Primitive, PrimitiveType
from vlm_ros.families.base import FamilyAdapter, Located
from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.instructions import Skeleton, SkeletonStep, parse_instruction
from vlm_ros.grounding.program import Program

# answers in which a model says the thing is not there
_ABSENT = re.compile(r"^\s*(?:```(?:json)?\s*)?\[\s*\]\s*(?:```)?\s*$|\b(?:no|not|none|cannot|can't|unable|nothing)\b",
                     re.IGNORECASE)


@dataclass
class PointerAnswer:
    text: str  # the raw answer, decoded
    processed_size: tuple[int, int] | None = None  # (w, h) of the image the model saw, where its frame needs it


class Pointer(Protocol):
    """Asks a VLM one question: where is `phrase` in `rgb`, in `adapter`'s syntax."""

    def point(self, rgb: np.ndarray, adapter: FamilyAdapter, phrase: str) -> PointerAnswer:
        ...


def says_absent(text: str) -> bool:
    return bool(_ABSENT.search(text or ""))


def choose(found: list[Located], phrase: str) -> list[Located]:
    """Points labelled like the phrase first (models sometimes add other objects), others after."""
    same = [f for f in found if f.label and (f.label.lower() in phrase.lower() or phrase.lower() in f.label.lower())]
    return same + [f for f in found if f not in same] if same else found


class FamilyGrounder:
    """Grounder protocol (vlm_ros.grounding.base) over a family adapter and a pointer."""

    open_vocabulary = True  # target labels are the instruction's own phrases, not a closed vocabulary

    def __init__(self, adapter: FamilyAdapter, pointer: Pointer, model_id: str):
        self.adapter = adapter
        self.pointer = pointer
        self.model_id = model_id

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        start = time.perf_counter()
        skeleton = parse_instruction(instruction)  # GroundingRefusal when not understood
        height, width = rgb.shape[:2]
        points: dict[str, list[Located]] = {}
        raw: list[str] = []
        for phrase in skeleton.phrases:
            answer = self.pointer.point(rgb, self.adapter, phrase)
            raw.append(f"{phrase}: {answer.text.strip()}")
            try:
                points[phrase] = choose(self.adapter.parse(answer.text, (width, height), answer.processed_size), phrase)
            except ModelOutputError:
                if says_absent(answer.text):
                    return self._result(Program(refused_label=phrase), raw, start)
                raise ModelOutputError(f"the {self.adapter.name} answer for {phrase!r} has no usable point: "
                                       f"{answer.text.strip()[:300]!r}") from None
        return self._result(build_program(skeleton, points), raw, start)

    def locate(self, rgb: np.ndarray, phrase: str) -> list[Located]:
        """Where `phrase` is in `rgb` (original pixels), [] when the model says it is absent.

        For re-pointing after execution (verification) without planning. Raises ModelOutputError
        when the answer has no coordinates and does not say the thing is absent.
        """
        height, width = rgb.shape[:2]
        answer = self.pointer.point(rgb, self.adapter, phrase)
        try:
            return choose(self.adapter.parse(answer.text, (width, height), answer.processed_size), phrase)
        except ModelOutputError:
            if says_absent(answer.text):
                return []
            raise

    def _result(self, program: Program, raw: list[str], start: float) -> GroundingResult:
        return GroundingResult(program, "\n".join(raw), {"decode": (time.perf_counter() - start) * 1e3})


def build_program(skeleton: Skeleton, points: dict[str, list[Located]]) -> Program:
    """Skeleton + pointed phrases → Program with pixels; `every` picks each object found."""
    steps: list[Primitive] = []
    for index, step in enumerate(skeleton.steps):
        if not step.type.needs_target:
            steps.append(Primitive(type=step.type))
            continue
        if step.location:
            steps.append(Primitive(type=step.type, target_label=step.location))
            continue
        found = points[step.phrase]
        targets = found if step.every else found[:1]
        for located in targets:
            steps.append(Primitive(type=step.type, target_label=step.phrase, pixel=located.point, box=located.box,
                                   direction_word=step.direction))
            follow = skeleton.steps[index + 1] if index + 1 < len(skeleton.steps) else None
            if step.every and follow is not None and follow.type is PrimitiveType.PLACE and located is not targets[-1]:
                steps.append(_place_for(follow, points))  # pick A ; place ; pick B ; place ...
    return Program(steps=steps)


def _place_for(step: SkeletonStep, points: dict[str, list[Located]]) -> Primitive:
    if step.location:
        return Primitive(type=step.type, target_label=step.location)
    located = points[step.phrase][0]
    return Primitive(type=step.type, target_label=step.phrase, pixel=located.point, box=located.box)
