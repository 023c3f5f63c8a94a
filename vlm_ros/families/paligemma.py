"""PaliGemma 1/2: `detect a ; b` answers `<locY0><locX0><locY1><locX1> label ; ...`, y first, over 1024.

Order and scale from Google's own parser (big_vision demo `extract_objs`: `y1, x1, y2, x2 =
int(v) / 1024`), multiplied by the original height/width: the square resize is not padded.
"""

from __future__ import annotations

import re

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size, answer_box, located_box

_DETECT = re.compile(r"<loc(\d{4})>\s*<loc(\d{4})>\s*<loc(\d{4})>\s*<loc(\d{4})>\s*(?:<seg\d{3}>\s*)*([^;<>]*)")


class PaliGemma(FamilyAdapter):
    name = "paligemma"
    model_types = ("paligemma",)
    frame = Frame.LOC_1024
    answer = "box"
    chat = False  # the processor builds <image>... <bos> prompt \n itself
    good_at = "boxes (detect) and masks (segment) for short object names; mix checkpoints follow task prefixes"
    prompt_template = "detect {phrase}"

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        w, h = size
        found = []
        for y0, x0, y1, x1, label in _DETECT.findall(text):
            box = (int(x0) / 1024 * w, int(y0) / 1024 * h, int(x1) / 1024 * w, int(y1) / 1024 * h)
            found.append(located_box(label, box, size))
        return found

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        w, h = image_size
        x0, y0, x1, y1 = answer_box(point, box)

        def loc(v: float, n: int) -> str:
            return f"<loc{min(max(round(v / n * 1024), 0), 1023):04d}>"

        return f"{loc(y0, h)}{loc(x0, w)}{loc(y1, h)}{loc(x1, w)} {label}"


ADAPTER = PaliGemma()
