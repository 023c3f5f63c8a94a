"""Checks on what reaches the pipeline from outside: frame stamps, and the model's pixels and boxes.

Plain Python, so the node, the CLI and the fuzz suite share them. Each failure raises with a
sentence that names the offending value, so an integrator can find the faulty driver or model.
"""

from __future__ import annotations

import math
import unicodedata

from vlm_ros.core.errors import InputError, ModelOutputError

NS_PER_S = 1_000_000_000
# bidirectional overrides/isolates reorder text on screen ("Trojan Source"): a log line or a
# terminal would show an instruction other than the one the model received
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_instruction_characters(text: str) -> None:
    """Refuse control characters (NUL, ESC, BEL, ...) and bidi overrides; tabs and newlines are whitespace."""
    for index, char in enumerate(text):
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            raise InputError(f"The instruction contains the control character U+{ord(char):04X} at position {index}; "
                             "send plain text.")


def check_stamp(stamp_ns: int, now_ns: int, max_age_s: float, max_skew_s: float, what: str = "camera frame") -> None:
    """A frame must carry a time, not be stale, and not come from the future.

    `now_ns` 0 means the clock has no time yet (sim time before /clock): nothing can be compared.
    A zero stamp under a running clock means the driver never stamped the image, so its age is
    unknown; a stamp beyond `max_skew_s` ahead means the clocks disagree, and its age is a lie.
    """
    if not now_ns:
        return
    if stamp_ns == 0:
        raise InputError(f"The {what} is stamped 0 (no time set) while the clock reads {now_ns / NS_PER_S:.3f} s; "
                         "the camera driver must stamp its messages.")
    ahead_s = (stamp_ns - now_ns) / NS_PER_S
    if ahead_s > max_skew_s:
        raise InputError(f"The {what} is stamped {ahead_s:.3f} s in the future (stamp {stamp_ns / NS_PER_S:.3f} s, "
                         f"clock {now_ns / NS_PER_S:.3f} s; max_clock_skew_s is {max_skew_s:g} s): "
                         "the camera's and this node's clocks disagree.")
    if max_age_s > 0 and -ahead_s > max_age_s:
        raise InputError(f"The latest {what} is {-ahead_s:.1f} s old (limit {max_age_s:.1f} s).")


def check_nanosec(sec: int, nanosec: int, what: str) -> int:
    """builtin_interfaces/Time → ns, refusing nanosec ≥ 1e9 (the uint32 field allows it; it overflows into sec)."""
    if not 0 <= nanosec < NS_PER_S:
        raise InputError(f"The {what} stamp (sec {sec}, nanosec {nanosec}) is invalid: nanosec must be below "
                         "1,000,000,000.")
    return sec * NS_PER_S + nanosec


def check_pixel(pixel: tuple[float, float], width: int, height: int, step: int) -> None:
    """The model's point must be a finite pixel of the image it saw."""
    u, v = pixel
    if not (math.isfinite(u) and math.isfinite(v)):
        raise ModelOutputError(f"step {step} points at a non-finite pixel ({u}, {v})")
    if not (0 <= u < width and 0 <= v < height):
        raise ModelOutputError(f"step {step} points at pixel ({u:.6g}, {v:.6g}), outside the {width}x{height} image")


def check_box(box: tuple[float, float, float, float], width: int, height: int, step: int,
              max_area_fraction: float) -> None:
    """A box must be finite, ordered, inside the image, at least a pixel wide and not (nearly) the whole image."""
    u0, v0, u1, v1 = box
    shown = "[" + ", ".join(f"{c:.6g}" for c in box) + "]"
    if not all(math.isfinite(c) for c in box):
        raise ModelOutputError(f"step {step} has a non-finite box {shown}")
    if u1 < u0 or v1 < v0:
        raise ModelOutputError(f"step {step} has an inverted box {shown} (u1 < u0 or v1 < v0)")
    if u0 < 0 or v0 < 0 or u1 > width or v1 > height:
        raise ModelOutputError(f"step {step} has a box {shown} outside the {width}x{height} image")
    box_w, box_h = u1 - u0, v1 - v0
    if box_w < 1 or box_h < 1:
        raise ModelOutputError(f"step {step} has a box {shown} smaller than one pixel")
    if box_w * box_h > max_area_fraction * width * height:
        raise ModelOutputError(f"step {step} has a box {shown} covering {box_w * box_h / (width * height):.0%} "
                               f"of the image (limit {max_area_fraction:.0%}): no tabletop object is that large")
