"""Molmo2: `<points coords="IMG id x y id x y ...">label</points>`, x first, scaled by 1000.

The first number of a group is the image (or frame) index, then `id x y` triples; groups for
other images are separated by tabs or semicolons. Extra attributes (`alt=...`) may sit next to
`coords`, which the model card's own regex misses, so attributes are read one by one.
"""

from __future__ import annotations

import re

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size, located_point

_TAG = re.compile(r"<(points|tracks|point)\b([^>]*?)/?>(?:(.*?)</\1>)?", re.S)
_COORDS = re.compile(r"coords\s*=\s*\"([^\"]*)\"")
_ALT = re.compile(r"alt\s*=\s*\"([^\"]*)\"")


class Molmo2(FamilyAdapter):
    name = "molmo2"
    model_types = ("molmo2",)
    frame = Frame.REL_1000
    needs = ("torchvision",)  # Molmo2ImageProcessor has no Pillow backend
    good_at = "pointing and counting (trained on PixMo-Points); video tracking"
    prompt_template = "Point to the {phrase}."

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        w, h = size
        found = []
        for _, attrs, body in _TAG.findall(text):
            coords = _COORDS.search(attrs)
            if coords is None:
                continue
            alt = _ALT.search(attrs)
            label = (body or "").strip() or (alt.group(1) if alt else "")
            for group in re.split(r"[\t;]", coords.group(1)):
                values = group.replace(",", " ").replace(":", " ").split()
                for i in range(1, len(values) - 2, 3):  # values[0] is the image index
                    x, y = float(values[i + 1]), float(values[i + 2])
                    found.append(located_point(label, x * w / 1000, y * h / 1000, size))
        return found

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        w, h = image_size
        x, y = point
        return f'<points coords="1 1 {round(x * 1000 / w):03d} {round(y * 1000 / h):03d}">{label}</points>'


ADAPTER = Molmo2()
