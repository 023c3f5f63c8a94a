"""Tiny random-weight checkpoints of every native VLM family, loaded by path through our factory.

Built once per session (tests/tiny_vlms.py; ~0.2 M parameters each, tokenizer trained here).
Random weights answer garbage, so every request must end as an ERROR or REFUSED plan with a
message: through `vlm-ros ground --model-path DIR`, and through a real rclpy graph where the
grounding_node (backend transformers) must survive 20 such requests per family.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from tests import tiny_vlms
from vlm_ros.core.errors import ModelLoadError
from vlm_ros.models.hf_vlm import load_transformers_grounder

NATIVE = list(tiny_vlms.BUILDERS)
INSTRUCTIONS = ["put the red block in the green bowl", "push the blue mug to the left", "pick up the banana",
                "move the apple to the top left corner"]
_cache: dict[str, Path] = {}


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny_vlms")


def checkpoint(root: Path, family: str) -> Path:
    if family not in _cache:
        _cache[family] = tiny_vlms.build(family, root)
    return _cache[family]


@pytest.mark.parametrize("family", NATIVE)
def test_cli_ground_by_path_ends_in_error_or_refusal(family, tiny_root, tmp_path, capsys):
    import cv2

    from vlm_ros.cli import main

    image = tmp_path / "scene.png"
    cv2.imwrite(str(image), np.random.RandomState(0).randint(0, 255, (48, 64, 3), np.uint8))
    code = main(["ground", "--image", str(image), "--instruction", INSTRUCTIONS[0], "--model-path",
                 str(checkpoint(tiny_root, family)), "--max-new-tokens", "6", "--json"])
    plan = json.loads(capsys.readouterr().out)
    assert plan["status"] in ("ERROR", "REFUSED") and plan["message"], plan
    assert code in (1, 2)
    assert f"({family} via transformers, cpu, float32)" in plan["model_id"]  # auto picked transformers by config.json


def test_bfloat16_and_family_override(tiny_root):
    grounder = load_transformers_grounder(checkpoint(tiny_root, "qwen3_vl"), dtype="bfloat16", max_new_tokens=4,
                                          model_family="qwen3_vl")
    assert "bfloat16" in grounder.model_id
    assert next(grounder.pointer.model.parameters()).dtype.__str__() == "torch.bfloat16"
    with pytest.raises(ModelLoadError, match="dtype 'int3'"):
        load_transformers_grounder(checkpoint(tiny_root, "qwen3_vl"), dtype="int3")


@pytest.mark.parametrize("family", ["qwen2_5_vl", "gemma3"])
def test_single_call_planning_on_a_tiny_checkpoint_fails_cleanly(family, tiny_root):
    from vlm_ros.core.errors import GroundingRefusal, ModelOutputError

    grounder = load_transformers_grounder(checkpoint(tiny_root, family), max_new_tokens=8, planning="single_call")
    assert "single-call" in grounder.model_id
    rgb = np.random.RandomState(2).randint(0, 255, (48, 64, 3), np.uint8)
    with pytest.raises((ModelOutputError, GroundingRefusal)):
        grounder.ground(rgb, INSTRUCTIONS[0])  # random weights write no JSON plan
    with pytest.raises(ModelLoadError, match="single_call needs a chat family"):
        load_transformers_grounder(checkpoint(tiny_root, "florence2"), planning="single_call")


@pytest.mark.parametrize("model_type, words", [
    ("molmo", "remote code"), ("moondream1", "remote code"), ("llama", "no VLM family"),
    ("molmo2", "torchvision"),
])
def test_unsupported_families_say_what_is_supported_and_why(tmp_path, model_type, words):
    from vlm_ros.models.hf_processor import torchvision_available

    if model_type == "molmo2" and torchvision_available():
        pytest.skip("torchvision imports here, so Molmo2 images can be preprocessed")
    from vlm_ros.grounding.factory import make_grounder

    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    with pytest.raises(ModelLoadError, match=words) as error:
        make_grounder("auto", str(tmp_path))  # auto routes any non-tabletop checkpoint to the transformers backend
    if model_type != "molmo2":
        assert "qwen2_5_vl" in str(error.value)  # names what is supported


def test_cuda_without_a_gpu_is_a_clear_error(tiny_root):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ModelLoadError, match="no CUDA device"):
        load_transformers_grounder(checkpoint(tiny_root, "idefics3"), device="cuda")


# --- through a real rclpy graph -----------------------------------------------------------------------------------

_names = itertools.count()


@pytest.mark.ros
@pytest.mark.parametrize("family", NATIVE)
def test_node_survives_20_garbage_answers(family, tiny_root, ros_context):
    from tests.ros_graph import HEIGHT, WIDTH, camera_info, grounding_graph
    from vlm_ros.core.types import PLAN_STATUS_CODES, PlanStatus
    from vlm_ros.geometry.transforms import matrix_to_pose

    # The camera looks down on a patch of table beyond the arm's reach, at (1.5, 0): random weights sometimes
    # emit well-formed coordinates (PaliGemma's <locNNNN> are single tokens), and such garbage must then be
    # REFUSED by the validator instead of moving the arm.
    down = np.eye(4)
    down[:3, :3] = [[0, -1, 0], [-1, 0, 0], [0, 0, -1]]
    down[:3, 3] = [1.5, 0.0, 0.8]
    overrides = {"backend": "transformers", "model_path": str(checkpoint(tiny_root, family)), "max_new_tokens": 4,
                 "camera_to_base": matrix_to_pose(down), "max_frame_age_s": 0.0, "publish_debug_image": False}
    with grounding_graph(f"/tiny{next(_names)}", **overrides) as (node, client):
        assert node.pipeline is not None, node.load_error
        rgb = np.random.RandomState(1).randint(0, 255, (HEIGHT, WIDTH, 3), np.uint8)
        client.publish_frame(rgb, np.full((HEIGHT, WIDTH), 0.8, np.float32), camera_info())
        bad = {PLAN_STATUS_CODES[PlanStatus.ERROR], PLAN_STATUS_CODES[PlanStatus.REFUSED]}
        messages = []
        for index in range(20):
            plan = client.ground(INSTRUCTIONS[index % len(INSTRUCTIONS)], timeout=60.0)
            assert plan.status in bad and plan.message, (index, plan.status, plan.message)
            assert "Internal error" not in plan.message and "not loaded" not in plan.message, plan.message
            messages.append(plan.message)
        # the model really ran: its garbage is quoted or judged, not an input error before it
        judged = ("output", "can't see", "workspace", "reach")
        assert any(word in m for m in messages for word in judged), messages
