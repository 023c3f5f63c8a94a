"""InternVL 2.5/3 (`-hf` checkpoints): `<ref>label</ref><box>[[x0, y0, x1, y1], ...]</box>`, 0-1000.

Scale from OpenGVLab's RefCOCO scorer (`/ 1000 * W, H`).
"""

from __future__ import annotations

import re

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size, answer_box, located_box
from vlm_ros.families.jsonish import numbers

_REF_BOX = re.compile(r"(?:<ref>(.*?)</ref>)?\s*<box>(.*?)</box>", re.S)
_INNER = re.compile(r"\[([^\[\]]*)\]")


class InternVL(FamilyAdapter):
    name = "internvl"
    model_types = ("internvl",)
    frame = Frame.REL_1000
    answer = "box"
    good_at = "referring-expression boxes"
    prompt_template = ("Please provide the bounding box coordinate of the region this sentence describes: "
                       "<ref>{phrase}</ref>")

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        w, h = size
        found = []
        for label, body in _REF_BOX.findall(text):
            for inner in _INNER.findall(body):
                v = numbers(inner)
                if len(v) == 4:
                    found.append(located_box(label, (v[0] * w / 1000, v[1] * h / 1000, v[2] * w / 1000,
                                                     v[3] * h / 1000), size))
        return found

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        w, h = image_size
        x0, y0, x1, y1 = answer_box(point, box)
        v = [round(x0 * 1000 / w), round(y0 * 1000 / h), round(x1 * 1000 / w), round(y1 * 1000 / h)]
        return f"<ref>{label}</ref><box>[[{', '.join(map(str, v))}]]</box>"


ADAPTER = InternVL()
