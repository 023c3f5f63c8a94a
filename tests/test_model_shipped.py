"""The shipped default model: loads offline, fits the sim camera, and grounds rendered scenes."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.models import DEFAULT_WEIGHTS_PATH, load_grounder
from vlm_ros.models.processor import ImageProcessor

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def grounder():
    return load_grounder(DEFAULT_WEIGHTS_PATH)


@pytest.fixture(scope="module")
def sim():
    from vlm_ros.sim import TabletopSim

    with TabletopSim(width=640, height=480) as s:
        yield s


def test_shipped_files_are_small_and_pickle_free():
    files = {p.name: p.stat().st_size for p in DEFAULT_WEIGHTS_PATH.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "processor_config.json"} <= set(files)
    assert sum(files.values()) < 40e6
    assert not [n for n in files if n.endswith((".bin", ".pt", ".pth", ".pkl"))]


def test_crop_covers_the_spawn_area_of_the_sim_camera(sim):
    """The model sees a fixed crop; it must still contain every place an object can be."""
    from vlm_ros.sim.workspace import SPAWN_AREA

    proc = ImageProcessor.from_pretrained(DEFAULT_WEIGHTS_PATH)
    s = proc.config.image_size
    for x in (SPAWN_AREA.lo[0], SPAWN_AREA.hi[0]):
        for y in (SPAWN_AREA.lo[1], SPAWN_AREA.hi[1]):
            for z in (0.0, 0.04):
                mx, my = proc.frame_to_model(*sim.project(np.array([x, y, z])), 640, 480)
                assert 0 <= mx < s and 0 <= my < s, (x, y, z, mx, my)


@pytest.mark.parametrize("task,seed", [("put-block-in-bowl", 7), ("stack-blocks", 8), ("place-at-location", 9),
                                       ("put-all-color-in-bowl", 10)])
def test_grounds_a_rendered_scene(grounder, sim, task, seed):
    from vlm_ros.sim.tasks import TASKS
    from vlm_ros.training.evaluate import judge

    episode = TASKS[task].sample(sim, seed)
    result = grounder.ground(sim.render().rgb, episode.instruction)
    correct, errors = judge(sim, (sim.intrinsics, sim.camera_to_base), episode, result.program)
    assert correct, (episode.instruction, result.raw_output, errors)
    assert max(errors) < 2.0
    assert set(result.latency_ms) >= {"preprocess", "vision", "prefill", "decode"}


def test_refuses_a_missing_object(grounder, sim):
    from vlm_ros.sim.tasks import TASKS

    episode = TASKS["refuse-missing"].sample(sim, 11)
    result = grounder.ground(sim.render().rgb, episode.instruction)
    assert result.program.refused_label == episode.missing, (episode.instruction, result.raw_output)


def test_shipped_overrule_threshold_sits_above_the_presence_thresholds(grounder):
    assert grounder.refusal_overrule_threshold >= max(grounder.presence_threshold,
                                                      grounder.bowl_presence_threshold) > 0
