"""`planning: single_call`: one JSON plan with points per instruction, read by the family's parser."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.errors import ModelLoadError, ModelOutputError
from vlm_ros.families import get_family
from vlm_ros.grounding.oracle import OracleGrounder
from vlm_ros.grounding.single_call import SINGLE_CALL_FAMILIES, check_planning, parse_plan

RGB = np.zeros((480, 640, 3), np.uint8)
TRUTH = "pick(red block) @ (301.7, 222.4) ; place(green bowl) @ (455.2, 310.9)"


@pytest.mark.parametrize("name", SINGLE_CALL_FAMILIES)
def test_oracle_single_call_plan_round_trips(name):
    grounder = OracleGrounder(oracle_format=name, planning="single_call")
    grounder.set_program(TRUTH)
    result = grounder.ground(RGB, "put the red block in the green bowl")
    assert "single-call" in grounder.model_id and '"steps"' in result.raw_output
    assert [(s.type.value, s.target_label) for s in result.program.steps] == [("pick", "red block"),
                                                                              ("place", "green bowl")]
    for step, truth in zip(result.program.steps, [(301.7, 222.4), (455.2, 310.9)]):
        assert np.allclose(step.pixel, truth, atol=1.5), (name, step.pixel)
    grounder.set_program("refuse(purple bowl)")
    assert grounder.ground(RGB, "put the red block in the purple bowl").program.refused_label == "purple bowl"


def test_plan_with_named_location_push_and_home():
    text = ('```json\n{"steps": [{"action": "push", "label": "cup", "direction": "left", "point_2d": [500, 500]}, '
            '{"action": "pick", "label": "apple", "point_2d": [250, 250]}, '
            '{"action": "place", "label": "the top left corner"}, {"action": "home"}]}\n```')
    program = parse_plan(text, get_family("qwen3_vl"), (640, 480))
    assert [(s.type.value, s.target_label, s.direction_word) for s in program.steps] == [
        ("push", "cup", "left"), ("pick", "apple", ""), ("place", "top left corner", ""), ("home", "", "")]
    assert program.steps[0].pixel == pytest.approx((320, 240)) and program.steps[2].pixel is None


@pytest.mark.parametrize("text, words", [("I will pick it up.", "no plan steps"),
                                          ('{"steps": [{"action": "dance", "label": "cup"}]}', "unknown action"),
                                          ('{"steps": [{"action": "pick", "label": "cup"}]}', "no qwen3_vl")])
def test_bad_plans_are_model_output_errors(text, words):
    with pytest.raises(ModelOutputError, match=words):
        parse_plan(text, get_family("qwen3_vl"), (640, 480))


def test_only_json_chat_families_plan_in_one_call():
    with pytest.raises(ModelLoadError, match="single_call needs a chat family"):
        check_planning(get_family("paligemma"), "single_call")
    with pytest.raises(ModelLoadError, match="not one of"):
        check_planning(get_family("qwen3_vl"), "telepathy")
