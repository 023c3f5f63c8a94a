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

# Parsing is linear in the input: the step is cut at its fixed punctuation with str methods and
# only short, unambiguous pieces meet a regex (a name, one number), so hostile whitespace or
# nesting cannot make it backtrack (the former single regex was cubic in whitespace).
_NAME = re.compile(r"[a-z_]+")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_QUOTE_CHARS = 80  # error messages quote at most this much of the model's output
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


def _quote(text: str) -> str:
    """The text for an error message, cut short: a hostile output must not make a huge plan message."""
    text = text.strip()
    return repr(text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "...")


def _numbers(text: str, count: int) -> tuple[float, ...] | None:
    """`count` comma-separated numbers (whitespace allowed around each), else None."""
    parts = text.split(",")
    if len(parts) != count or not all(_NUMBER.fullmatch(part.strip()) for part in parts):
        return None
    return tuple(float(part) for part in parts)


def _split_step(text: str) -> tuple[str, str, tuple[float, ...] | None] | None:
    """`name(args) [@ (u, v) | @ [u0, v0, u1, v1]]` → (name, args, numbers), or None if malformed.

    Every str method here is one pass over the text, so the whole split is O(len(text)).
    """
    body = text.strip()
    open_at = body.find("(")
    close_at = body.find(")", open_at + 1) if open_at >= 0 else -1
    if close_at < 0:
        return None
    name, args, rest = body[:open_at].rstrip(), body[open_at + 1 : close_at], body[close_at + 1 :].strip()
    if not _NAME.fullmatch(name) or "(" in args:
        return None
    if not rest:
        return name, args, None
    if not rest.startswith("@"):
        return None
    where = rest[1:].strip()
    if len(where) >= 2 and where[0] == "(" and where[-1] == ")":
        numbers = _numbers(where[1:-1], 2)
    elif len(where) >= 2 and where[0] == "[" and where[-1] == "]":
        numbers = _numbers(where[1:-1], 4)
    else:
        numbers = None
    return None if numbers is None else (name, args, numbers)


def parse_step(text: str) -> Primitive | str:
    """One step → Primitive, or the label of a refusal (as a str)."""
    split = _split_step(text)
    if split is None:
        raise ModelOutputError(f"cannot parse step {_quote(text)}: expected name(args) [@ (u, v)]")
    name, raw_args, numbers = split
    args = [a.strip() for a in raw_args.split(",")] if raw_args.strip() else []
    if name == REFUSE:
        if len(args) != 1 or not args[0]:
            raise ModelOutputError(f"refuse() needs exactly one label, got {_quote(text)}")
        return args[0]
    try:
        kind = PrimitiveType(name)
    except ValueError:
        known = ", ".join(t.value for t in PrimitiveType)
        raise ModelOutputError(f"unknown primitive {name!r} (known: {known}, refuse)") from None
    pixel = box = None
    if numbers is not None and len(numbers) == 2:
        pixel = (numbers[0], numbers[1])
    elif numbers is not None:
        box = numbers
        pixel = ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)
    if pixel is not None and not _finite(*pixel):
        raise ModelOutputError(f"non-finite point in {_quote(text)}")
    label = args[0] if args else ""
    step = Primitive(type=kind, target_label=label, pixel=pixel, box=box)  # type: ignore[arg-type]
    if kind is PrimitiveType.PUSH:
        if len(args) != 2:
            raise ModelOutputError(f"push needs (object, direction), got {_quote(text)}")
        step.target_label = args[0]
        step.direction_word = args[1]
    elif len(args) > 1:
        raise ModelOutputError(f"{name} takes one argument, got {len(args)} in {_quote(text)}")
    if kind.needs_target and not step.target_label:
        raise ModelOutputError(f"{name} needs a target, got {_quote(text)}")
    return step


def parse_program(text: str) -> Program:
    """Parse a whole program; a refusal must stand alone."""
    if not text or not text.strip():
        raise ModelOutputError("the model produced no output")
    parts = [p for p in text.split(";")]
    if any(not p.strip() for p in parts):
        raise ModelOutputError(f"empty step in {_quote(text)}")
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
