"""Tolerant reading of the JSON-ish boxes and points chat VLMs write (Qwen, InternVL, RoboBrain).

Models wrap JSON in ```json fences, add `sub_label` or `# comments`, drop quotes or brackets;
`json.loads` fails on half of real answers, so each object is read field by field instead.
"""

from __future__ import annotations

import re

_NUM = r"[-+]?\d+(?:\.\d+)?"
_OBJECT = re.compile(r"\{[^{}]*\}")
_COORDS = re.compile(r"[\"']?(bbox_2d|point_2d|bbox|point)[\"']?\s*:\s*\[([^\[\]]*)\]")
_LABEL = re.compile(r"[\"']?label[\"']?\s*:\s*[\"']([^\"']*)[\"']")
_TUPLE = re.compile(rf"\(\s*({_NUM})\s*,\s*({_NUM})\s*\)")
_LIST4 = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]")
_LIST2 = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*\]")


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(_NUM, text)]


def json_items(text: str) -> list[tuple[str, list[float]]]:
    """[(label, [x, y] or [x0, y0, x1, y1])] from `{"bbox_2d": [...], "label": ...}` objects."""
    items = []
    for chunk in _OBJECT.findall(text):
        coords = _COORDS.search(chunk)
        if coords is None:
            continue
        values = numbers(coords.group(2))
        if len(values) not in (2, 4):
            continue
        label = _LABEL.search(chunk)
        items.append((label.group(1) if label else "", values))
    return items


def bare_items(text: str) -> list[tuple[str, list[float]]]:
    """RoboBrain-style answers without keys: `[(x, y), ...]`, `[x0, y0, x1, y1]` or `[x, y]`."""
    boxes = [[float(v) for v in m] for m in _LIST4.findall(text)]
    if boxes:
        return [("", b) for b in boxes]
    points = [[float(x), float(y)] for x, y in _TUPLE.findall(text)]
    points += [[float(x), float(y)] for x, y in _LIST2.findall(text)]
    return [("", p) for p in points]
