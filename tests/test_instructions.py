"""The open-vocabulary instruction parser: commands → primitive skeletons with free-text phrases."""

from __future__ import annotations

import pytest

from vlm_ros.core.errors import GroundingRefusal
from vlm_ros.grounding.instructions import parse_instruction
from vlm_ros.sim.tasks import TASKS


def skeleton(text):
    return [(s.type.value, s.phrase, s.location or None, s.direction or None) for s in parse_instruction(text).steps]


@pytest.mark.parametrize("text, expected", [
    ("put the banana in the blue mug", [("pick", "banana", None, None), ("place", "blue mug", None, None)]),
    ("pick up the screwdriver and drop it in the tray",
     [("pick", "screwdriver", None, None), ("place", "tray", None, None)]),
    ("stack the small box on the big box", [("pick", "small box", None, None), ("place", "big box", None, None)]),
    ("push the cup to the left", [("push", "cup", None, "left")]),
    ("move the apple to the top left corner",
     [("pick", "apple", None, None), ("place", "top left corner", "top left corner", None)]),
    ("go home", [("home", "", None, None)]),
    ("open the gripper", [("open_gripper", "", None, None)]),
    ("Close the gripper.", [("close_gripper", "", None, None)]),
    ("Please pick up the red mug, then go home.", [("pick", "red mug", None, None), ("home", "", None, None)]),
    ("stack the red block on top of the blue block",
     [("pick", "red block", None, None), ("place", "blue block", None, None)]),
    ("move to the center", [("move_to", "center", "center", None)]),
    ("push the bottle toward me", [("push", "bottle", None, "toward me")]),
])
def test_examples(text, expected):
    assert skeleton(text) == expected


def test_every_and_phrases():
    parsed = parse_instruction("put all the red blocks in the green bowl")
    assert parsed.steps[0].every and parsed.steps[0].phrase == "red blocks"
    assert parsed.phrases == ["red blocks", "green bowl"]
    assert parse_instruction("move the apple to the top left corner").phrases == ["apple"]  # locations need no pointing


@pytest.mark.parametrize("task", ["put-block-in-bowl", "stack-blocks", "place-at-location", "put-all-color-in-bowl"])
def test_every_sim_template_parses_to_pick_and_place(task):
    for template in TASKS[task].templates:
        text = template.format(pick="red block", place="top left corner" if task == "place-at-location" else
                               "green bowl", pick_color="red", place_color="green")
        kinds = [s.type.value for s in parse_instruction(text).steps]
        assert kinds == ["pick", "place"], text


@pytest.mark.parametrize("text, words", [
    ("dance a jig", "dance a jig"),
    ("put it in the bowl", "'it'"),
    ("", "no words"),
    ("pick up the top left corner", "place"),
])
def test_unparseable_is_a_refusal_saying_what_was_not_understood(text, words):
    with pytest.raises(GroundingRefusal, match=words):
        parse_instruction(text)
