"""Object classes of the closed world: the patch classifier's classes and the pointer's prior."""

from __future__ import annotations

from vlm_ros.core.vocabulary import COLORS

COLOR_INDEX = {c: i for i, c in enumerate(COLORS)}
KINDS = ("block", "bowl")
NUM_PATCH_CLASSES = 1 + len(COLORS) * len(KINDS)  # 0 is clear table


def label_class(label: str) -> int:
    """Patch class of a canonical label ("red block" -> 1); -1 for anything else (a location)."""
    words = label.split()
    if len(words) != 2 or words[0] not in COLOR_INDEX or words[1] not in KINDS:
        return -1
    return 1 + len(KINDS) * COLOR_INDEX[words[0]] + KINDS.index(words[1])
