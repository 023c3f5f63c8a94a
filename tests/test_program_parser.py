"""The primitive-program parser: round trips, and a clear reason for every malformed output."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.core.types import Primitive, PrimitiveType
from vlm_ros.core.vocabulary import COLORS
from vlm_ros.grounding.program import Program, format_program, parse_program


def test_parses_pick_and_place():
    program = parse_program("pick(red block) @ (312.0, 240.5) ; place(green bowl) @ (101, 198)")
    pick, place = program.steps
    assert (pick.type, pick.target_label, pick.pixel) == (PrimitiveType.PICK, "red block", (312.0, 240.5))
    assert (place.type, place.target_label, place.pixel) == (PrimitiveType.PLACE, "green bowl", (101.0, 198.0))


def test_parses_push_home_box_and_refusal():
    program = parse_program("push(blue cube, left) @ (10, 20) ; home() ; pick(red block) @ [0, 0, 10, 20]")
    assert program.steps[0].direction_word == "left"
    assert program.steps[1].type is PrimitiveType.HOME and program.steps[1].pixel is None
    assert program.steps[2].box == (0.0, 0.0, 10.0, 20.0) and program.steps[2].pixel == (5.0, 10.0)
    refusal = parse_program("refuse(purple block)")
    assert refusal.refused and refusal.refused_label == "purple block"


@pytest.mark.parametrize("text,reason", [
    ("", "no output"),
    ("   ", "no output"),
    ("pick(red block) @ (1, 2) ;", "empty step"),
    ("fly(red block) @ (1, 2)", "unknown primitive 'fly'"),
    ("pick(red block) @ (1, 2", "cannot parse"),
    ("pick() @ (1, 2)", "needs a target"),
    ("push(red block) @ (1, 2)", "push needs"),
    ("pick(red block, blue block) @ (1, 2)", "takes one argument"),
    ("refuse(red block) ; pick(red block) @ (1, 2)", "refusal cannot be combined"),
    ("refuse()", "exactly one label"),
    ("pick(red block) @ (nan, 2)", "cannot parse"),
])
def test_rejects_malformed_output_with_a_reason(text, reason):
    with pytest.raises(ModelOutputError, match=reason.replace("(", r"\(")):
        parse_program(text)


labels = st.builds(lambda c, k: f"{c} {k}", st.sampled_from(sorted(COLORS)), st.sampled_from(["block", "bowl"]))
points = st.tuples(st.floats(0, 639).map(lambda x: round(x, 1)), st.floats(0, 479).map(lambda x: round(x, 1)))
steps = st.builds(lambda t, label, p: Primitive(type=t, target_label=label, pixel=p),
                  st.sampled_from([PrimitiveType.PICK, PrimitiveType.PLACE, PrimitiveType.MOVE_TO]), labels, points)


@settings(max_examples=200, deadline=None)
@given(st.lists(steps, min_size=1, max_size=6))
def test_format_then_parse_round_trips(step_list):
    parsed = parse_program(format_program(Program(steps=step_list)))
    assert [(s.type, s.target_label, s.pixel) for s in parsed.steps] == \
        [(s.type, s.target_label, s.pixel) for s in step_list]
