"""Our own program format (vlm_ros.grounding.program), as a family: points already in image pixels.

The shipped tabletop-tiny model answers a whole instruction in one program, so its "prompt"
is the instruction itself; each step with a point becomes one labelled point.
"""

from __future__ import annotations

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size, located_box, located_point
from vlm_ros.grounding.program import parse_program


class VlmRosProgram(FamilyAdapter):
    name = "vlm_ros"
    model_types = ("tabletop_vlm",)
    frame = Frame.PIXELS
    loadable = False  # loaded by the torch / onnxruntime / tensorrt backends, not by transformers
    good_at = "the closed tabletop world it was trained on (sim-rendered blocks and bowls)"
    prompt_template = "{phrase}"

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        program = parse_program(text)
        if program.refused:
            raise ModelOutputError(f"the model refused: it cannot see a {program.refused_label} ({text!r})")
        found = []
        for step in program.steps:
            if step.box is not None:
                found.append(located_box(step.target_label, step.box, size))
            elif step.pixel is not None:
                found.append(located_point(step.target_label, step.pixel[0], step.pixel[1], size))
        return found

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        return f"pick({label}) @ ({point[0]:.1f}, {point[1]:.1f})"


ADAPTER = VlmRosProgram()
