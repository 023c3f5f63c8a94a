"""Molmo v1 (remote code only): `<point x="63.3" y="85.8" alt="...">label</point>` in percent 0-100.

Not loadable by transformers (no native class); the parser serves remote backends (vLLM
serves Molmo natively). Maintainer: "normalized to between 0 and 100", values > 100 invalid.
"""

from __future__ import annotations

import re

from vlm_ros.families.base import FamilyAdapter, Frame, Located, Size, located_point

_TAG = re.compile(r"<(points?)\b([^>]*)>(.*?)</\1>", re.S)
_XY = re.compile(r"\bx(\d*)\s*=\s*\"\s*([0-9]+(?:\.[0-9]+)?)\"\s+y\1\s*=\s*\"\s*([0-9]+(?:\.[0-9]+)?)\"")
_ALT = re.compile(r"alt\s*=\s*\"([^\"]*)\"")


class Molmo(FamilyAdapter):
    name = "molmo"
    model_types = ("molmo",)
    frame = Frame.PCT_100
    loadable = False
    good_at = "pointing and counting; run it behind a vLLM server (remote backend)"
    prompt_template = "Point to the {phrase}."

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        w, h = size
        found = []
        for _, attrs, body in _TAG.findall(text):
            alt = _ALT.search(attrs)
            label = body.strip() or (alt.group(1) if alt else "")
            for _, x, y in _XY.findall(attrs):
                if float(x) <= 100 and float(y) <= 100:
                    found.append(located_point(label, float(x) * w / 100, float(y) * h / 100, size))
        return found

    def format_answer(self, label, point, box, image_size, processed_size=None) -> str:
        w, h = image_size
        x, y = point[0] * 100 / w, point[1] * 100 / h
        return f'<point x="{x:.1f}" y="{y:.1f}" alt="{label}">{label}</point>'


ADAPTER = Molmo()
