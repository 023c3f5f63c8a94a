"""FamilyGrounder end to end without weights: the oracle answers in each family's syntax and frame,
the family's real parser reads it back, and the pipeline projects and validates the result."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.errors import GroundingRefusal, ModelOutputError
from vlm_ros.core.types import CameraIntrinsics, PlanStatus, RGBDFrame
from vlm_ros.families import FAMILIES
from vlm_ros.grounding.family_grounder import FamilyGrounder, PointerAnswer
from vlm_ros.grounding.oracle import OracleGrounder
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig

WIDTH, HEIGHT = 640, 480
TRUTH = "pick(red block) @ (301.7, 222.4) ; place(green bowl) @ (455.2, 310.9)"


def oracle(name: str) -> OracleGrounder:
    grounder = OracleGrounder(oracle_format=name)
    grounder.set_program(TRUTH)
    return grounder


@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_format_round_trips_to_the_ground_truth_pixels(name):
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    result = oracle(name).ground(rgb, "pick up the red block and put it in the green bowl")
    steps = result.program.steps
    assert [(s.type.value, s.target_label) for s in steps] == [("pick", "red block"), ("place", "green bowl")]
    for step, truth in zip(steps, [(301.7, 222.4), (455.2, 310.9)]):
        assert np.allclose(step.pixel, truth, atol=1.5), (name, step.pixel, result.raw_output)
    assert result.raw_output.startswith("red block: ")


@pytest.mark.parametrize("name", ["qwen2_5_vl", "paligemma", "florence2"])
def test_missing_phrase_refuses_naming_it(name):
    result = oracle(name).ground(np.zeros((HEIGHT, WIDTH, 3), np.uint8), "put the banana in the blue mug")
    assert result.program.refused_label == "banana"


def test_named_locations_need_no_pointing():
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    result = oracle("molmo2").ground(rgb, "move the red block to the top left corner")
    assert [(s.target_label, s.pixel is None) for s in result.program.steps] == [("red block", False),
                                                                                   ("top left corner", True)]


def test_unparseable_instruction_refuses():
    with pytest.raises(GroundingRefusal, match="did not understand"):
        oracle("qwen3_vl").ground(np.zeros((HEIGHT, WIDTH, 3), np.uint8), "sing me a song")


class Answers:
    """A pointer that replays recorded raw answers (stands in for a model's text, parsed for real)."""

    def __init__(self, text: str):
        self.text = text

    def point(self, rgb, adapter, phrase):
        return PointerAnswer(self.text)


def test_output_without_coordinates_is_a_model_output_error_with_the_text():
    from vlm_ros.families import get_family

    grounder = FamilyGrounder(get_family("qwen3_vl"), Answers("banana banana banana"), "replay")
    with pytest.raises(ModelOutputError, match="banana banana"):
        grounder.ground(np.zeros((HEIGHT, WIDTH, 3), np.uint8), "pick up the cup")


def test_pipeline_plans_in_3d_and_refuses_what_is_not_there():
    depth = np.full((HEIGHT, WIDTH), 0.8, np.float32)
    frame = RGBDFrame(np.zeros((HEIGHT, WIDTH, 3), np.uint8), depth,
                      CameraIntrinsics(500.0, 500.0, WIDTH / 2, HEIGHT / 2, WIDTH, HEIGHT))
    camera_to_base = np.array([[0, -1, 0, 0.5], [-1, 0, 0, 0.0], [0, 0, -1, 0.8], [0, 0, 0, 1.0]])
    pipeline = GroundingPipeline(oracle("paligemma"), camera_to_base, PipelineConfig(max_frame_age_s=0.0))
    plan = pipeline.run(frame, "put the red block in the green bowl")
    assert plan.status is PlanStatus.OK, plan.message
    assert all(s.position is not None and abs(s.position[2]) < 1e-6 for s in plan.steps)
    refused = pipeline.run(frame, "put the banana in the blue mug")
    assert refused.status is PlanStatus.REFUSED and refused.message == "I can't see a banana here."
    not_understood = pipeline.run(frame, "sing me a song")
    assert not_understood.status is PlanStatus.REFUSED and "did not understand" in not_understood.message


def test_locate_for_verification():
    grounder = oracle("internvl")._family
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    (label, point), = grounder.locate(rgb, "green bowl")
    assert label == "green bowl" and np.allclose(point, (455.2, 310.9), atol=1.5)
    assert grounder.locate(rgb, "banana") == []
