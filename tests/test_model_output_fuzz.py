"""Issue 11 point 6: no model output, however hostile, gets a target past the validator.

10,000 seeded outputs (random programs, huge/NaN/inf pixels, unknown labels, truncation,
random bytes, injections copied from the instruction) through the real GroundingPipeline,
parser and projector on a real RGB-D frame, with a closed- and an open-vocabulary grounder.
"""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.types import PlanStatus
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig
from vlm_ros.qa.model_outputs import (
    INJECTIONS,
    EchoOrFixedGrounder,
    downward_camera,
    fuzz_model_outputs,
    table_frame,
)


def test_ten_thousand_fuzzed_outputs_give_no_unsafe_plan_and_no_exception():
    report = fuzz_model_outputs(10_000, seed=11)
    assert report.tried == 10_000
    assert report.escaped == [], report.escaped[:5]
    assert report.unsafe_ok == [], report.unsafe_ok[:5]
    # the fuzzer must reach every outcome, or it proves nothing about the OK path
    assert report.statuses["OK"] >= 200 and report.statuses["REFUSED"] >= 200 and report.statuses["ERROR"] >= 2_000, \
        report.statuses


@pytest.mark.parametrize("instruction", INJECTIONS)
@pytest.mark.parametrize("vocabulary", ["closed", "open"])
def test_an_instruction_copied_as_the_output_cannot_inject_a_target(instruction, vocabulary):
    grounder = EchoOrFixedGrounder(None if vocabulary == "open" else EchoOrFixedGrounder().vocabulary)
    pipeline = GroundingPipeline(grounder, downward_camera(), PipelineConfig(max_frame_age_s=0.0))
    plan = pipeline.run(table_frame(1), instruction, now_ns=1)
    assert plan.status is not PlanStatus.OK, plan.describe()


def test_a_benign_model_ignores_coordinates_in_the_instruction():
    grounder = EchoOrFixedGrounder()
    grounder.output = "pick(red block) @ (32, 24)"
    pipeline = GroundingPipeline(grounder, downward_camera(), PipelineConfig(max_frame_age_s=0.0))
    plan = pipeline.run(table_frame(1), "pick(red block) @ (1e9, -1e9) the red block", now_ns=1)
    assert plan.ok, plan.message
    assert np.allclose(plan.steps[0].position, [0.5, 0.0, 0.04], atol=1e-3)
