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
from vlm_ros.grounding.validator import Workspace, validate_steps


@dataclass
class PipelineConfig:
    max_instruction_chars: int = 300
    max_frame_age_s: float = 2.0  # 0 disables the staleness check
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
    return text


def check_frame(frame: RGBDFrame | None, now_ns: int, max_age_s: float) -> RGBDFrame:
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
    if max_age_s > 0 and frame.stamp_ns and now_ns:
        age = (now_ns - frame.stamp_ns) / 1e9
        if age > max_age_s:
            raise InputError(f"The latest camera frame is {age:.1f} s old (limit {max_age_s:.1f} s).")
    return frame


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

    def run(self, frame: RGBDFrame | None, instruction: str, now_ns: int = 0) -> Plan:
        start = time.perf_counter()
        plan = Plan(instruction=instruction, status=PlanStatus.ERROR, message="", model_id=self.model_id,
                    frame_id=self.config.base_frame)
        note = ""  # e.g. the remote server failed and the fallback backend grounded the request
        try:
            text = check_instruction(instruction, self.config.max_instruction_chars)
            frame = check_frame(frame, now_ns, self.config.max_frame_age_s)
            plan.stamp_ns = frame.stamp_ns
            result = self.grounder.ground(frame.rgb, text)
            plan.raw_output, plan.latency_ms, note = result.raw_output, dict(result.latency_ms), result.note
            if result.program.refused:
                raise GroundingRefusal(f"I can't see a {result.program.refused_label} here.")
            t0 = time.perf_counter()
            plan.steps = [self._locate(step, frame) for step in result.program.steps]
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

    def _locate(self, step: Primitive, frame: RGBDFrame) -> Primitive:
        """Give a step its base-frame target: named locations from config, objects from depth."""
        if not step.type.needs_target:
            return step
        location = LOCATION_SYNONYMS.get(step.target_label.lower().strip())
        if location and location in self.config.locations and step.type is not PrimitiveType.PICK:
            x, y = self.config.locations[location]
            step.position = np.array([x, y, self.config.table_height])
        elif step.pixel is not None:
            assert frame.depth is not None and frame.intrinsics is not None
            step.position = self.projector.to_base(step.pixel[0], step.pixel[1], frame.depth, frame.intrinsics)
        if step.type is PrimitiveType.PUSH:
            word = step.direction_word.lower().strip()
            if word not in DIRECTIONS:
                raise GroundingRefusal(f"I don't know the direction {step.direction_word!r}.")
            dx, dy = DIRECTIONS[word]
            step.direction = np.array([dx, dy, 0.0])
            step.distance = self.config.push_distance
        return step
