"""The oracle as a VLM of any family: answers "where is <phrase>" from the sim's ground truth,
written in that family's syntax and coordinate frame, so the family's real parser reads it back.

With this, `vlm-ros bench --grounder oracle --oracle-format F` proves each family's prompt →
answer → parser → pixel → depth → base-frame chain end to end without any weights.
"""

from __future__ import annotations

import numpy as np

from vlm_ros.core.types import PrimitiveType
from vlm_ros.families.base import FamilyAdapter
from vlm_ros.families.qwen2_5_vl import smart_resize
from vlm_ros.grounding.family_grounder import PointerAnswer
from vlm_ros.grounding.program import Program

BOX_HALF = 12.0  # [px] half size of the box written for box-answering families


def singular(phrase: str) -> str:
    words = phrase.lower().strip().split()
    if words and words[-1].endswith("es") and words[-1][:-2].endswith(("x", "s", "sh", "ch")):
        words[-1] = words[-1][:-2]
    elif words and words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def ground_truth_points(program: Program, phrase: str) -> list[tuple[float, float]]:
    """Pixels of the objects called `phrase`: each picked object, or the one place target (its mean)."""
    wanted = {phrase.lower().strip(), singular(phrase)}
    picks = [s.pixel for s in program.steps if s.type is PrimitiveType.PICK and s.pixel is not None
             and s.target_label.lower() in wanted]
    if picks:
        return list(dict.fromkeys(picks))
    places = [s.pixel for s in program.steps if s.pixel is not None and s.target_label.lower() in wanted]
    return [tuple(np.mean(places, axis=0))] if places else []


class OraclePointer:
    """Pointer over a ground-truth program (set by the sim bridge through `source()`)."""

    def __init__(self, source) -> None:
        self.source = source  # () -> Program

    def point(self, rgb: np.ndarray, adapter: FamilyAdapter, phrase: str) -> PointerAnswer:
        height, width = rgb.shape[:2]
        processed = smart_resize(width, height) if adapter.name == "qwen2_5_vl" else None
        points = ground_truth_points(self.source(), phrase)
        if not points:
            return PointerAnswer(f"There is no {phrase} in the image.", processed)
        parts = []
        for x, y in points:
            box = (x - BOX_HALF, y - BOX_HALF, x + BOX_HALF, y + BOX_HALF) if adapter.answer == "box" else None
            parts.append(adapter.format_answer(phrase, (x, y), box, (width, height), processed))
        return PointerAnswer(" ; ".join(parts) if adapter.name == "paligemma" else "\n".join(parts), processed)

    def ask(self, rgb: np.ndarray, adapter: FamilyAdapter, prompt: str) -> PointerAnswer:
        """A single-call JSON plan of the ground-truth program, points in the family's frame."""
        height, width = rgb.shape[:2]
        processed = smart_resize(width, height) if adapter.name == "qwen2_5_vl" else None
        program = self.source()
        if program.refused:
            return PointerAnswer(f'{{"refuse": "{program.refused_label}"}}', processed)
        steps = []
        for step in program.steps:
            fields = f'"action": "{step.type.value}", "label": "{step.target_label}"'
            if step.direction_word:
                fields += f', "direction": "{step.direction_word}"'
            if step.pixel is not None:
                answer = adapter.format_answer(step.target_label, step.pixel, None, (width, height), processed)
                fields += ", " + answer[answer.index('"point_2d"'):answer.index("]") + 1]
            steps.append("{" + fields + "}")
        return PointerAnswer('```json\n{"steps": [' + ", ".join(steps) + "]}\n```", processed)
