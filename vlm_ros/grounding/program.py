"""The primitive-program text format every grounder emits, and its parser.

    pick(red block) @ (312.0, 240.5) ; place(green bowl) @ (101.0, 198.0)
    push(red block, left) @ (300, 200)
    move_to(top left corner) @ (80, 60)
    home()
    refuse(purple block)

Points are image pixels [u, v] of the frame the grounder saw. A step may also carry
a box: `pick(red block) @ [u0, v0, u1, v1]`. Parsing is pure and strict: anything
else raises ModelOutputError with the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.core.types import Primitive, PrimitiveType

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_STEP = re.compile(
    r"^\s*(?P<name>[a-z_]+)\s*\(\s*(?P<args>[^()]*?)\s*\)\s*"
    rf"(?:@\s*(?:\(\s*(?P<u>{_NUMBER})\s*,\s*(?P<v>{_NUMBER})\s*\)"
    rf"|\[\s*(?P<b0>{_NUMBER})\s*,\s*(?P<b1>{_NUMBER})\s*,\s*(?P<b2>{_NUMBER})\s*,\s*(?P<b3>{_NUMBER})\s*\]))?\s*$"
)
REFUSE = "refuse"


@dataclass
class Program:
    """Parsed model output: either steps, or a refusal naming what is missing."""

    steps: list[Primitive] = field(default_factory=list)
    refused_label: str | None = None

    @property
    def refused(self) -> bool:
        return self.refused_label is not None


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def parse_step(text: str) -> Primitive | str:
    """One step → Primitive, or the label of a refusal (as a str)."""
    match = _STEP.match(text)
    if match is None:
        raise ModelOutputError(f"cannot parse step {text.strip()!r}: expected name(args) [@ (u, v)]")
    name = match["name"]
    args = [a.strip() for a in match["args"].split(",")] if match["args"].strip() else []
    if name == REFUSE:
        if len(args) != 1 or not args[0]:
            raise ModelOutputError(f"refuse() needs exactly one label, got {text.strip()!r}")
        return args[0]
    try:
        kind = PrimitiveType(name)
    except ValueError:
        known = ", ".join(t.value for t in PrimitiveType)
        raise ModelOutputError(f"unknown primitive {name!r} (known: {known}, refuse)") from None
    pixel = box = None
    if match["u"] is not None:
        pixel = (float(match["u"]), float(match["v"]))
    elif match["b0"] is not None:
        box = tuple(float(match[f"b{i}"]) for i in range(4))
        pixel = ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)
    if pixel is not None and not _finite(*pixel):
        raise ModelOutputError(f"non-finite point in {text.strip()!r}")
    label = args[0] if args else ""
    step = Primitive(type=kind, target_label=label, pixel=pixel, box=box)  # type: ignore[arg-type]
    if kind is PrimitiveType.PUSH:
        if len(args) != 2:
            raise ModelOutputError(f"push needs (object, direction), got {text.strip()!r}")
        step.target_label = args[0]
        step.direction_word = args[1]
    elif len(args) > 1:
        raise ModelOutputError(f"{name} takes one argument, got {len(args)} in {text.strip()!r}")
    if kind.needs_target and not step.target_label:
        raise ModelOutputError(f"{name} needs a target, got {text.strip()!r}")
    return step


def parse_program(text: str) -> Program:
    """Parse a whole program; a refusal must stand alone."""
    if not text or not text.strip():
        raise ModelOutputError("the model produced no output")
    parts = [p for p in text.split(";")]
    if any(not p.strip() for p in parts):
        raise ModelOutputError(f"empty step in {text.strip()!r}")
    parsed = [parse_step(p) for p in parts]
    refusals = [p for p in parsed if isinstance(p, str)]
    if refusals:
        if len(parsed) != 1:
            raise ModelOutputError("a refusal cannot be combined with other steps")
        return Program(refused_label=refusals[0])
    return Program(steps=[p for p in parsed if isinstance(p, Primitive)])


def format_step(step: Primitive) -> str:
    """Inverse of parse_step for steps with a point (or none)."""
    args = step.target_label
    if step.type is PrimitiveType.PUSH and step.direction_word:
        args = f"{args}, {step.direction_word}"
    text = f"{step.type.value}({args})"
    if step.pixel is not None:
        text += f" @ ({step.pixel[0]:.1f}, {step.pixel[1]:.1f})"
    return text


def format_program(program: Program) -> str:
    if program.refused:
        return f"{REFUSE}({program.refused_label})"
    return " ; ".join(format_step(s) for s in program.steps)
