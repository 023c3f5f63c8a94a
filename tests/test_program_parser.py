"""The primitive-program parser: round trips, and a clear reason for every malformed output."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.core.types import Primitive, PrimitiveType
from vlm_ros.core.vocabulary import COLORS
from vlm_ros.grounding.program import Program, _split_step, format_program, parse_program


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


# --- linear-time parsing (issue 11): hostile inputs cost time in proportion to their length ----------

_LEGACY_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_LEGACY_STEP = re.compile(  # the former single-regex grammar (cubic in whitespace), kept as the reference
    r"^\s*(?P<name>[a-z_]+)\s*\(\s*(?P<args>[^()]*?)\s*\)\s*"
    rf"(?:@\s*(?:\(\s*(?P<u>{_LEGACY_NUMBER})\s*,\s*(?P<v>{_LEGACY_NUMBER})\s*\)"
    rf"|\[\s*(?P<b0>{_LEGACY_NUMBER})\s*,\s*(?P<b1>{_LEGACY_NUMBER})\s*,\s*(?P<b2>{_LEGACY_NUMBER})\s*,"
    rf"\s*(?P<b3>{_LEGACY_NUMBER})\s*\]))?\s*$"
)


def _legacy_split(text: str):
    match = _LEGACY_STEP.match(text)
    if match is None:
        return None
    if match["u"] is not None:
        numbers = (float(match["u"]), float(match["v"]))
    elif match["b0"] is not None:
        numbers = tuple(float(match[f"b{i}"]) for i in range(4))
    else:
        numbers = None
    return match["name"], match["args"].strip(), numbers


def _outcome(parse, text: str):
    try:
        return "ok", parse(text)
    except ModelOutputError as error:
        return "error", str(error)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="pick_ome()[]@,;.-+ \t\n1234567890a\u00a0\u0663", max_size=40))
def test_splitting_agrees_with_the_former_regex_grammar(text):
    split = _split_step(text)
    assert (None if split is None else (split[0], split[1].strip(), split[2])) == _legacy_split(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, min_size=1, max_size=4), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_valid_programs_with_extra_whitespace_parse_as_before(step_list, gap):
    text = f" {gap};{gap}".join(format_program(Program(steps=[s])).replace(" @ ", f"{gap}@{gap}")
                                .replace(", ", f"{gap},{gap}") for s in step_list)
    parsed = parse_program(text)
    assert [(s.type, s.target_label, s.pixel) for s in parsed.steps] == \
        [(s.type, s.target_label, s.pixel) for s in step_list]
    assert [_legacy_split(part) for part in text.split(";")] == \
        [(lambda t: (t[0], t[1].strip(), t[2]))(_split_step(part)) for part in text.split(";")]


HOSTILE = {  # name -> builder of an input of about n characters
    "spaces in args": lambda n: "pick(" + " " * n,
    "spaces after a step": lambda n: "pick(red block)" + " " * n + "x",
    "spaces in a point": lambda n: "pick(red block) @ (" + " " * n,
    "open parens": lambda n: "(" * n,
    "nested parens": lambda n: "pick" + "(" * (n // 2) + ")" * (n // 2),
    "separators": lambda n: ";" * n,
    "spaced separators": lambda n: " ;" * (n // 2),
    "commas": lambda n: "pick(" + "a," * (n // 2) + ")",
    "numbers": lambda n: "pick(red block) @ (" + "1" * n + ", 2)",
    "valid, padded": lambda n: " " * (n // 2) + "pick(red block) @ (1, 2)" + " " * (n // 2),
    "many valid steps": lambda n: " ; ".join(["home()"] * (n // 9)),
}


def _seconds_per_parse(text: str, repeats: int) -> float:
    """Median over 5 rounds of the time per parse; errors are expected and part of the cost."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            _outcome(parse_program, text)
        rounds.append((time.perf_counter() - start) / repeats)
    return statistics.median(rounds)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_parsing_hostile_input_is_linear_in_its_length(name):
    """100x the input may cost at most 1,000x the time: linear is ~100x, the old cubic parser 10^6x."""
    small, large = HOSTILE[name](1_000), HOSTILE[name](100_000)
    assert 900 <= len(small) <= 1_100 and 90_000 <= len(large) <= 110_000
    ratio = _seconds_per_parse(large, 3) / _seconds_per_parse(small, 300)
    assert ratio < 1_000, f"{name}: 100x longer input took {ratio:.0f}x longer"
    status, detail = _outcome(parse_program, large)
    assert status == "error" or name in ("valid, padded", "many valid steps"), detail
    if status == "error":
        assert len(detail) < 300  # the error quotes the output cut short, not all 100,000 characters
