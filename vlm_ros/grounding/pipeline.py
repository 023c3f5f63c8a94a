"""Frame + instruction → checked Plan: the whole grounding path, without ROS.

Order of checks: instruction, frame, model, projection, validation. Each failure is a
Plan with status ERROR (bad input) or REFUSED (understood, cannot be done), never an
exception, so callers (node, CLI, bench) only ever handle Plans.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from vlm_ros.core.errors import BackendError, GroundingRefusal, InputError, ModelOutputError
from vlm_ros.core.types import Plan, PlanStatus, Primitive, PrimitiveType, RGBDFrame
from vlm_ros.core.vocabulary import DIRECTIONS, LOCATION_SYNONYMS, LOCATIONS
from vlm_ros.geometry.placement import SLOT_RADIUS, ring_slots
from vlm_ros.geometry.projection import Projector
from vlm_ros.grounding.base import Grounder
from vlm_ros.grounding.input_checks import check_box, check_instruction_characters, check_pixel, check_stamp
from vlm_ros.grounding.labels import TABLETOP_VOCABULARY, label_problem, mentioned
from vlm_ros.grounding.validator import Workspace, validate_steps

# steps whose target may be a named table location; pick and push need an object
PLACE_LIKE = (PrimitiveType.PLACE, PrimitiveType.MOVE_TO)


@dataclass
class PipelineConfig:
    max_instruction_chars: int = 300
    max_frame_age_s: float = 2.0  # 0 disables the staleness check
    max_clock_skew_s: float = 1.0  # a frame stamped further ahead of the clock than this is an ERROR [s]
    max_box_fraction: float = 0.9  # a model box covering more of the image than this is not an object
    base_frame: str = "base_link"
    table_height: float = 0.0  # z of the table surface in the base frame [m]
    push_distance: float = 0.10  # [m]
    place_spread: float = SLOT_RADIUS  # [m] ring radius when several objects are placed at one target; 0: off
    locations: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(LOCATIONS))
    workspace: Workspace = field(default_factory=Workspace)


def check_instruction(instruction: str, max_chars: int) -> str:
    text = " ".join(instruction.split())
    if not text:
        raise InputError("The instruction is empty.")
    if len(text) > max_chars:
        raise InputError(f"The instruction is {len(text)} characters long; the limit is {max_chars}.")
    check_instruction_characters(text)
    return text


def check_frame(frame: RGBDFrame | None, now_ns: int, max_age_s: float, max_skew_s: float = 1.0) -> RGBDFrame:
    if frame is None:
        raise InputError("No camera frame has been received yet.")
    if frame.rgb.size == 0:
        raise InputError("The camera image is empty.")
    if frame.intrinsics is None:
        raise InputError("No camera_info has been received, so pixels cannot be located in 3D.")
    if frame.depth is None:
        raise InputError("No depth image has been received, so pixels cannot be located in 3D.")
    if frame.depth.shape != frame.rgb.shape[:2]:
        raise InputError(
            f"The depth image is {frame.depth.shape[1]}x{frame.depth.shape[0]} but the colour image is "
            f"{frame.rgb.shape[1]}x{frame.rgb.shape[0]}; they must be registered to the same size."
        )
    check_stamp(frame.stamp_ns, now_ns, max_age_s, max_skew_s)
    return frame


def grounder_vocabulary(grounder: Grounder) -> frozenset[str] | None:
    """The grounder's declared closed world, or None for an open-vocabulary one (`vocabulary = None` or
    `open_vocabulary = True`); one that declares nothing is held to the tabletop model's world."""
    if getattr(grounder, "open_vocabulary", False):
        return None
    return getattr(grounder, "vocabulary", TABLETOP_VOCABULARY)


def check_model_steps(steps: list[Primitive], frame: RGBDFrame, vocabulary: frozenset[str] | None,
                      instruction: str, max_box_fraction: float) -> None:
    """What the model said must be possible: pixels and boxes in the image, labels it may use."""
    height, width = frame.rgb.shape[:2]
    for index, step in enumerate(steps, start=1):
        if step.box is not None:
            check_box(step.box, width, height, index, max_box_fraction)
        if step.pixel is not None:
            check_pixel(step.pixel, width, height, index)
        if not step.type.needs_target:
            continue
        location = step.type in PLACE_LIKE and LOCATION_SYNONYMS.get(" ".join(
            step.target_label.lower().split())) is not None
        problem = None if location else label_problem(step.target_label, vocabulary, instruction)
        if problem:
            raise ModelOutputError(f"step {index}: {problem}")


def refusal_message(label: str, instruction: str) -> str:
    """Name the missing object only when the user asked for it."""
    if mentioned(label, instruction):
        return f"I can't see a {label[:60]} here."
    return "I did not understand the instruction: it names nothing I can find here, so nothing will move."


def spread_shared_places(steps: list[Primitive], radius: float) -> None:
    """Several objects placed at one target ("all the red blocks in the bowl") go to a ring of slots
    around it instead of on top of each other; the model points at the target, the plan spreads them."""
    if radius <= 0:
        return
    groups: dict[str, list[Primitive]] = {}
    for step in steps:
        if step.type is PrimitiveType.PLACE and step.position is not None:
            groups.setdefault(step.target_label, []).append(step)
    for group in groups.values():
        if len(group) < 2:
            continue
        centre = np.mean([s.position for s in group], axis=0)
        for step, slot in zip(group, ring_slots(centre, len(group), radius)):
            step.position = slot


class GroundingPipeline:
    """Grounder + projector + validator behind one call."""

    def __init__(self, grounder: Grounder, camera_to_base: np.ndarray, config: PipelineConfig | None = None):
        self.grounder = grounder
        self.config = config or PipelineConfig()
        self.projector = Projector(camera_to_base)

    @property
    def model_id(self) -> str:
        return self.grounder.model_id

    def run(self, frame: RGBDFrame | None, instruction: str, now_ns: int = 0,
            camera_to_base: np.ndarray | None = None) -> Plan:
        """camera_to_base: this frame's camera→base transform (e.g. from tf at its stamp); default the projector's."""
        start = time.perf_counter()
        plan = Plan(instruction=instruction, status=PlanStatus.ERROR, message="", model_id=self.model_id,
                    frame_id=self.config.base_frame)
        note = ""  # e.g. the remote server failed and the fallback backend grounded the request
        try:
            text = check_instruction(instruction, self.config.max_instruction_chars)
            frame = check_frame(frame, now_ns, self.config.max_frame_age_s, self.config.max_clock_skew_s)
            plan.stamp_ns = frame.stamp_ns
            result = self.grounder.ground(frame.rgb, text)
            plan.raw_output, plan.latency_ms, note = result.raw_output, dict(result.latency_ms), result.note
            if getattr(result, "preprocess", ""):
                plan.debug["preprocess"] = result.preprocess
            if result.program.refused:
                raise GroundingRefusal(refusal_message(result.program.refused_label or "", text))
            check_model_steps(result.program.steps, frame, grounder_vocabulary(self.grounder), text,
                              self.config.max_box_fraction)
            t0 = time.perf_counter()
            projector = self.projector if camera_to_base is None else Projector(camera_to_base,
                                                                                 self.projector.depth_window)
            plan.steps = [self._locate(step, frame, projector) for step in result.program.steps]
            spread_shared_places(plan.steps, self.config.place_spread)
            plan.latency_ms["projection"] = (time.perf_counter() - t0) * 1e3
            validate_steps(plan.steps, self.config.workspace)
            plan.status, plan.message = PlanStatus.OK, f"{len(plan.steps)} steps grounded."
        except GroundingRefusal as refusal:
            plan.status, plan.message = PlanStatus.REFUSED, str(refusal)
        except ModelOutputError as error:
            plan.status, plan.message = PlanStatus.ERROR, f"The model's output could not be understood: {error}"
        except (InputError, BackendError) as error:
            plan.status, plan.message = PlanStatus.ERROR, str(error)
        if note:
            plan.message += f" ({note})"
        plan.latency_ms["total"] = (time.perf_counter() - start) * 1e3
        return plan

    def _locate(self, step: Primitive, frame: RGBDFrame, projector: Projector) -> Primitive:
        """Give a step its base-frame target: named locations from config, objects from depth."""
        if not step.type.needs_target:
            return step
        location = LOCATION_SYNONYMS.get(step.target_label.lower().strip())
        if location and location in self.config.locations and step.type in PLACE_LIKE:
            x, y = self.config.locations[location]
            step.position = np.array([x, y, self.config.table_height])
        elif step.pixel is not None:
            assert frame.depth is not None and frame.intrinsics is not None
            step.position = projector.to_base(step.pixel[0], step.pixel[1], frame.depth, frame.intrinsics)
        if step.type is PrimitiveType.PUSH:
            word = step.direction_word.lower().strip()
            if word not in DIRECTIONS:
                raise GroundingRefusal(f"I don't know the direction {step.direction_word!r}.")
            dx, dy = DIRECTIONS[word]
            step.direction = np.array([dx, dy, 0.0])
            step.distance = self.config.push_distance
        return step
