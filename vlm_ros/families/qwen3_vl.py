"""Qwen3-VL / Qwen3.5: the Qwen2.5 JSON keys, but in relative 0-1000 coordinates.

"Qwen3-VL's default coordinate system has been changed from the absolute coordinates used in
Qwen2.5-VL to relative coordinates ranging from 0 to 1000" (QwenLM/Qwen3-VL#1741).
"""

from __future__ import annotations

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size
from vlm_ros.families.qwen2_5_vl import json_answer, read_items


def rel1000_answer(label: str, point, box, image_size, key_box: str = "bbox_2d", key_point: str = "point_2d") -> str:
    w, h = image_size
    if box is not None:
        return json_answer(label, [box[0] * 1000 / w, box[1] * 1000 / h, box[2] * 1000 / w, box[3] * 1000 / h],
                           key_box)
    return json_answer(label, [point[0] * 1000 / w, point[1] * 1000 / h], key_point)


class Qwen3_VL(FamilyAdapter):
    name = "qwen3_vl"
    model_types = ("qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")
    frame = Frame.REL_1000
    good_at = "points and boxes for free-text phrases, GUI elements; strongest open grounding here"
    prompt_template = ('Point to the {phrase} in the image, output its coordinates using JSON format: '
                       '[{{"point_2d": [x, y], "label": "{phrase}"}}]')

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        return read_items(text, self.name, size, (size[0] / 1000.0, size[1] / 1000.0))

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        return rel1000_answer(label, point, box, image_size)


ADAPTER = Qwen3_VL()
