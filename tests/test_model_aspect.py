"""The shipped model on 16:9 cameras: the same scene at 640x480 and at 848x480 / 1280x720 (same
vertical field of view) gives the same plan, with 3D targets within 1 cm, because the frame is
cropped to the model's 4:3 and the points are mapped back exactly. (What stretching instead costs
is measured by `vlm-ros eval-grounding --preprocess stretch`, see the README.)"""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.core.types import PlanStatus
from vlm_ros.grounding.factory import make_grounder
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig
from vlm_ros.models import DEFAULT_WEIGHTS_PATH
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS

pytestmark = pytest.mark.skipif(not (DEFAULT_WEIGHTS_PATH / "config.json").exists(),
                                reason=f"no shipped weights at {DEFAULT_WEIGHTS_PATH}")
SEEDS = [(name, 940_000 + i) for i, name in enumerate(["put-block-in-bowl", "stack-blocks"])]


def plans_at(width: int, height: int, grounder) -> list:
    plans = []
    with TabletopSim(gui=False, width=width, height=height) as sim:
        pipeline = GroundingPipeline(grounder, sim.camera_to_base, PipelineConfig(max_frame_age_s=0.0))
        for name, seed in SEEDS:
            episode = TASKS[name].sample(sim, seed)
            plans.append(pipeline.run(sim.render(), episode.instruction))
    return plans


@pytest.fixture(scope="module")
def grounder():
    return make_grounder("torch")


@pytest.fixture(scope="module")
def reference(grounder):
    return plans_at(640, 480, grounder)


@pytest.mark.parametrize("width,height,region", [(848, 480, "x 104..744"), (1280, 720, "x 160..1120")])
def test_a_16_9_camera_gives_the_4_3_plans(grounder, reference, width, height, region):
    wide = plans_at(width, height, grounder)
    for ref, plan in zip(reference, wide):
        assert ref.status is PlanStatus.OK, ref.message
        assert plan.status is PlanStatus.OK, plan.message
        assert [(s.type, s.target_label) for s in plan.steps] == [(s.type, s.target_label) for s in ref.steps]
        for a, b in zip(ref.steps, plan.steps):
            assert np.linalg.norm(a.position - b.position) < 0.01
        assert plan.debug["preprocess"].startswith(f"crop {width}x{height} → {region}")
