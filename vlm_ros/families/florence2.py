"""Florence-2: task tokens in, `label<loc_x0><loc_y0><loc_x1><loc_y1>...` out, bins 0-999, x first.

A bin is dequantised at its centre, `(bin + 0.5) * W / 1000`, as the transformers
Florence2 post-processor does; a box without its own label belongs to the label before it.
"""

from __future__ import annotations

import re

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size, answer_box, located_box

_BOX = re.compile(r"([^<]*)<loc_(\d+)>\s*<loc_(\d+)>\s*<loc_(\d+)>\s*<loc_(\d+)>")
_MARKERS = re.compile(r"</?s>|<pad>|<unk>")


class Florence2(FamilyAdapter):
    name = "florence2"
    model_types = ("florence2",)
    frame = Frame.BINS_1000
    answer = "box"
    chat = False  # the processor expands the task token itself
    skip_special_tokens = False  # <loc_N> are special tokens
    good_at = "fast boxes (0.2-0.8 B params): open-vocabulary detection and phrase grounding"
    prompt_template = "<OPEN_VOCABULARY_DETECTION>{phrase}"

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        w, h = size
        found: list[Located] = []
        label = ""
        for name, x0, y0, x1, y1 in _BOX.findall(_MARKERS.sub("", text)):
            label = name.strip() or label
            box = tuple((int(v) + 0.5) * n / 1000 for v, n in ((x0, w), (y0, h), (x1, w), (y1, h)))
            found.append(located_box(label, box, size))
        return found

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        w, h = image_size
        x0, y0, x1, y1 = answer_box(point, box)

        def loc(v: float, n: int) -> str:
            return f"<loc_{min(max(int(v / n * 1000), 0), 999)}>"

        return f"</s><s>{label}{loc(x0, w)}{loc(y0, h)}{loc(x1, w)}{loc(y1, h)}</s>"


ADAPTER = Florence2()
