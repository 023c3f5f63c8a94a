"""Chat VLMs without documented grounding (SmolVLM, Gemma 3): asked for Qwen3-style JSON in 0-1000.

Neither Google nor Hugging Face documents a box/point format for these (reference §2), so the
prompt spells the format out and the Qwen3 reader parses the answer. Expect low reliability:
fine-tune them, or use them for yes/no verification, before trusting their points.
"""

from __future__ import annotations

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size
from vlm_ros.families.qwen2_5_vl import read_items
from vlm_ros.families.qwen3_vl import rel1000_answer

PROMPT = ('Point to the {phrase}. Answer only with JSON: [{{"point_2d": [x, y], "label": "{phrase}"}}], '
          "x and y from 0 to 1000 (0,0 is the top left corner, 1000,1000 the bottom right).")


class PromptedJson(FamilyAdapter):
    frame = Frame.REL_1000
    good_at = "VQA and yes/no checks; points only through a prompted JSON format (undocumented, unreliable)"
    prompt_template = PROMPT

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        return read_items(text, self.name, size, (size[0] / 1000.0, size[1] / 1000.0))

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        return rel1000_answer(label, point, box, image_size)


class Idefics3(PromptedJson):
    name = "idefics3"
    model_types = ("idefics3",)  # SmolVLM v1 checkpoints


class SmolVLM(PromptedJson):
    name = "smolvlm"
    model_types = ("smolvlm",)  # SmolVLM2
    needs = ("num2words",)  # SmolVLMProcessor imports it


class Gemma3(PromptedJson):
    name = "gemma3"
    model_types = ("gemma3",)


IDEFICS3, SMOLVLM, GEMMA3 = Idefics3(), SmolVLM(), Gemma3()
