"""What every VLM family adapter provides: a prompt, a pure output parser and its coordinate frame.

A family's raw text comes back in that family's own frame (absolute pixels of the resized
image, 0-1000, <locNNNN> over 1024, Florence bins, ...). Parsers turn it into points in the
pixels of the ORIGINAL image, clamped to it, so the rest of the pipeline never sees a frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vlm_ros.core.errors import ModelOutputError

Box = tuple[float, float, float, float]
Size = tuple[int, int]  # (width, height) px


class Frame:
    """Coordinate frames a family may answer in (value: how to read a number)."""

    PIXELS = "pixels of the original image"
    ABS_RESIZED = "absolute pixels of the processor-resized image"
    REL_1000 = "relative 0-1000 of the image"
    PCT_100 = "percent 0-100 of the image"
    LOC_1024 = "<locNNNN> tokens over 1024, y first"
    BINS_1000 = "<loc_N> bins 0-999, bin centre"


class Located(tuple):
    """(label, (x, y)) in original-image pixels; `box` keeps the box the point came from, if any."""

    box: Box | None

    def __new__(cls, label: str, point: tuple[float, float], box: Box | None = None) -> Located:
        self = super().__new__(cls, (label, (float(point[0]), float(point[1]))))
        self.box = box
        return self

    @property
    def label(self) -> str:
        return self[0]

    @property
    def point(self) -> tuple[float, float]:
        return self[1]


def clamp(value: float, size: int) -> float:
    """Keep a coordinate on the image: every family can overshoot the edge."""
    return min(max(float(value), 0.0), float(size - 1))


def located_point(label: str, x: float, y: float, size: Size) -> Located:
    return Located(label.strip(), (clamp(x, size[0]), clamp(y, size[1])))


def located_box(label: str, box: Sequence[float], size: Size) -> Located:
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = sorted((clamp(x0, size[0]), clamp(x1, size[0])))
    y0, y1 = sorted((clamp(y0, size[1]), clamp(y1, size[1])))
    return Located(label.strip(), ((x0 + x1) / 2.0, (y0 + y1) / 2.0), (x0, y0, x1, y1))


def answer_box(point: Sequence[float], box: Sequence[float] | None) -> tuple[float, float, float, float]:
    """The box to write in a box-only syntax (oracle answers): the object's box, else the point as a 0-size box."""
    return tuple(box) if box is not None else (point[0], point[1], point[0], point[1])


def check_size(image_size: Sequence[int]) -> Size:
    width, height = (int(v) for v in image_size)
    if width <= 0 or height <= 0:
        raise ValueError(f"image_size must be positive (width, height), got {tuple(image_size)}")
    return width, height


def strip_fences(text: str) -> str:
    """Drop ```json fences and surrounding chatter markers models like to add."""
    return re.sub(r"```[a-zA-Z]*", " ", text)


def nothing_usable(family: str, text: str) -> ModelOutputError:
    shown = text if len(text) <= 300 else text[:300] + "..."
    return ModelOutputError(f"no {family} points or boxes in the output {shown!r}")


class FamilyAdapter:
    """Base class: subclasses set the class attributes and implement `_parse` and `format_answer`."""

    name: str = ""
    model_types: tuple[str, ...] = ()  # config.json model_type values served by this adapter
    frame: str = Frame.PIXELS
    answer: str = "point"  # what the prompt asks for: "point" or "box"
    chat: bool = True  # prompt goes through the processor's chat template
    skip_special_tokens: bool = True  # how to decode generated tokens
    loadable: bool = True  # native in transformers (AutoModelForImageTextToText)
    needs: tuple[str, ...] = ()  # optional packages the processor needs to read images
    good_at: str = ""
    prompt_template: str = "Point to the {phrase}."

    def prompt(self, phrase: str) -> str:
        """The text that asks this family to point at / locate `phrase`."""
        return self.prompt_template.format(phrase=phrase.strip())

    def parse(self, text: str, image_size: Sequence[int], processed_size: Sequence[int] | None = None) -> list[Located]:
        """Raw output → [(label, (x, y))] in original-image pixels. Raises ModelOutputError if nothing usable."""
        size = check_size(image_size)
        processed = check_size(processed_size) if processed_size is not None else None
        found = self._parse(text or "", size, processed)
        if not found:
            raise nothing_usable(self.name, text or "")
        return found

    def _parse(self, text: str, size: Size, processed: Size | None) -> list[Located]:
        raise NotImplementedError

    def format_answer(self, label: str, point: tuple[float, float], box: Box | None, image_size: Sequence[int],
                      processed_size: Sequence[int] | None = None) -> str:
        """What a perfect model of this family would answer (the oracle's writer; inverse of parse)."""
        raise NotImplementedError
