"""`planning: single_call`: a chat VLM writes the whole plan, with points, in one JSON answer.

    {"steps": [{"action": "pick", "label": "banana", "point_2d": [x, y]},
               {"action": "place", "label": "blue mug", "point_2d": [x, y]}]}      or   {"refuse": "banana"}

One generate() instead of one per phrase. Each step object is read by the family's own parser
(same keys as its pointing answers, same frame), so both planning paths end in the same Program,
projection and validator. Only chat families that answer in JSON support it.
"""

from __future__ import annotations

import re
import time

import numpy as np

from vlm_ros.core.errors import ModelLoadError, ModelOutputError
from vlm_ros.core.types import Primitive, PrimitiveType
from vlm_ros.families.base import FamilyAdapter, Frame, strip_fences
from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.family_grounder import FamilyGrounder
from vlm_ros.grounding.instructions import clean_phrase, location_of, normalise
from vlm_ros.grounding.program import Program

PLANNINGS = ("per_phrase", "single_call")
SINGLE_CALL_FAMILIES = ("qwen2_5_vl", "qwen3_vl", "gemma3", "idefics3", "smolvlm")
FRAME_WORDS = {Frame.ABS_RESIZED: "x and y in pixels of the image",
               Frame.REL_1000: "x and y from 0 to 1000 across the image width and height (0,0 top left)"}
PROMPT = ('You control a robot arm above a table. Instruction: "{instruction}". Answer only with JSON like '
          '{{"steps": [{{"action": "pick", "label": "banana", "point_2d": [x, y]}}, '
          '{{"action": "place", "label": "blue mug", "point_2d": [x, y]}}]}}. Actions: pick, place, '
          'push (add "direction": left, right, forward or back), move_to, home, open_gripper, close_gripper. '
          '{frame}. If an object of the instruction is not in the image, answer {{"refuse": "<that object>"}}.')
_STEP = re.compile(r"\{[^{}]*[\"']action[\"'][^{}]*\}")
_FIELD = r"[\"']{name}[\"']\s*:\s*[\"']([^\"']*)[\"']"
_REFUSE = re.compile(_FIELD.format(name="refuse"))


def check_planning(adapter: FamilyAdapter, planning: str) -> None:
    if planning not in PLANNINGS:
        raise ModelLoadError(f"planning {planning!r} is not one of {', '.join(PLANNINGS)}.")
    if planning == "single_call" and adapter.name not in SINGLE_CALL_FAMILIES:
        raise ModelLoadError(f"planning single_call needs a chat family answering in JSON "
                             f"({', '.join(SINGLE_CALL_FAMILIES)}); {adapter.name} plans per phrase.")


def _field(chunk: str, name: str) -> str:
    match = re.search(_FIELD.format(name=name), chunk)
    return match.group(1).strip() if match else ""


def parse_plan(text: str, adapter: FamilyAdapter, image_size: tuple[int, int],
               processed_size: tuple[int, int] | None = None) -> Program:
    """A single-call JSON plan → Program in original-image pixels. Raises ModelOutputError."""
    text = strip_fences(text or "")
    refused = _REFUSE.search(text)
    if refused:
        return Program(refused_label=refused.group(1).strip() or "requested object")
    steps: list[Primitive] = []
    for chunk in _STEP.findall(text):
        action = _field(chunk, "action").lower()
        try:
            kind = PrimitiveType(action)
        except ValueError:
            raise ModelOutputError(f"unknown action {action!r} in the plan {text.strip()[:300]!r}") from None
        label = _field(chunk, "label")
        step = Primitive(type=kind, target_label=label, direction_word=_field(chunk, "direction"))
        if kind.needs_target:
            place = location_of(clean_phrase(normalise(label))[0])
            if place and kind is not PrimitiveType.PICK:
                step.target_label = place
            else:
                (_, point), *_ = located = adapter.parse(chunk, image_size, processed_size)
                step.pixel, step.box = point, located[0].box
            if not step.target_label:
                raise ModelOutputError(f"{action} without a label in {chunk!r}")
        steps.append(step)
    if not steps:
        raise ModelOutputError(f"no plan steps in the {adapter.name} answer {text.strip()[:300]!r}")
    return Program(steps=steps)


class SingleCallGrounder:
    """Grounder protocol: one ask() per instruction, read by parse_plan."""

    open_vocabulary = True

    def __init__(self, adapter: FamilyAdapter, pointer, model_id: str):
        self.adapter, self.pointer = adapter, pointer
        self.model_id = model_id + ", single-call planning"

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        start = time.perf_counter()
        prompt = PROMPT.format(instruction=instruction.replace('"', "'"), frame=FRAME_WORDS[self.adapter.frame])
        answer = self.pointer.ask(rgb, self.adapter, prompt)
        height, width = rgb.shape[:2]
        program = parse_plan(answer.text, self.adapter, (width, height), answer.processed_size)
        return GroundingResult(program, answer.text, {"decode": (time.perf_counter() - start) * 1e3})


def make_planner(adapter: FamilyAdapter, pointer, model_id: str, planning: str = "per_phrase"):
    check_planning(adapter, planning)
    if planning == "single_call":
        return SingleCallGrounder(adapter, pointer, model_id)
    return FamilyGrounder(adapter, pointer, model_id)
