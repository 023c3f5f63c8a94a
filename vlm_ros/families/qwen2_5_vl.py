"""Qwen2.5-VL (and RoboBrain 2.0): JSON boxes/points in absolute pixels of the RESIZED image.

The processor resizes each image to multiples of 28 px (`smart_resize`); the model answers in
that resized image ("absolute coordinates based on the actual resized image shape",
QwenLM/Qwen3-VL#676, #866), so pixels are scaled by original/resized per axis.
"""

from __future__ import annotations

import math

from vlm_ros.families.base import Box, FamilyAdapter, Frame, Located, Size, located_box, located_point, strip_fences
from vlm_ros.families.jsonish import bare_items, json_items

MIN_PIXELS = 56 * 56  # transformers' Qwen2VLImageProcessor defaults
MAX_PIXELS = 28 * 28 * 1280


def smart_resize(width: int, height: int, factor: int = 28, min_pixels: int = MIN_PIXELS,
                 max_pixels: int = MAX_PIXELS) -> Size:
    """(width, height) the Qwen2-VL image processor resizes an image to (its algorithm, re-implemented)."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return w_bar, h_bar


def read_items(text: str, family: str, size: Size, scale: tuple[float, float]) -> list[Located]:
    """JSON (or bare list) items, each number multiplied by scale (x, y), clamped to `size`."""
    text = strip_fences(text)
    items = json_items(text) or bare_items(text)
    sx, sy = scale
    found = []
    for label, v in items:
        if len(v) == 4:
            found.append(located_box(label, (v[0] * sx, v[1] * sy, v[2] * sx, v[3] * sy), size))
        else:
            found.append(located_point(label, v[0] * sx, v[1] * sy, size))
    return found


def json_answer(label: str, values: list[float], key: str) -> str:
    body = ", ".join(str(int(round(v))) for v in values)
    return f'```json\n[\n  {{"{key}": [{body}], "label": "{label}"}}\n]\n```'


class Qwen2_5_VL(FamilyAdapter):
    name = "qwen2_5_vl"
    model_types = ("qwen2_5_vl",)
    frame = Frame.ABS_RESIZED
    answer = "box"
    good_at = "boxes and points for free-text phrases; RoboBrain 2.0 adds robot pointing and affordances"
    prompt_template = "Locate the {phrase} in the image and output the bbox coordinates in JSON format."

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        pw, ph = processed or smart_resize(*size)
        return read_items(text, self.name, size, (size[0] / pw, size[1] / ph))

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        w, h = image_size
        pw, ph = processed_size or smart_resize(w, h)
        sx, sy = pw / w, ph / h
        if box is not None:
            b: Box = box
            return json_answer(label, [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy], "bbox_2d")
        return json_answer(label, [point[0] * sx, point[1] * sy], "point_2d")


ADAPTER = Qwen2_5_VL()
