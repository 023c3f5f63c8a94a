"""ONNX Runtime against PyTorch: the runtime step by step, the decoding loop against the torch
backend's loop (pointer, `<loc>` feedback, pick bans), and plans on rendered scenes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vlm_ros.engines.decoding import greedy_decode as engine_decode
from vlm_ros.engines.export import ensure_onnx
from vlm_ros.engines.ort_runtime import OrtRuntime
from vlm_ros.engines.parity import ParityReport, compare, run_parity
from vlm_ros.engines.random_model import POINTING_TOKENS, save_random_model
from vlm_ros.engines.runtime import TorchRuntime
from vlm_ros.engines.scenes import render_bench_scenes
from vlm_ros.models import DEFAULT_WEIGHTS_PATH as SHIPPED
from vlm_ros.models import load_grounder
from vlm_ros.models.decoding import greedy_decode as torch_decode
from vlm_ros.models.loading import load_pretrained
from vlm_ros.models.tokenizer import SEP, split_words

# An untrained model restricted to POINTING_TOKENS emits `pick` and `<loc>` runs, so every
# branch of the loop runs (seed chosen so that two picks point, which exercises the ban).


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("VLM_ROS_ENGINE_CACHE", str(cache))
    model_dir = save_random_model(tmp_path_factory.mktemp("pointing"), "tiny", seed=4, only_tokens=POINTING_TOKENS)
    onnx_dir = ensure_onnx(model_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model on a shared 2-core machine: one thread is ~50x faster
    yield model_dir, onnx_dir, render_bench_scenes(12)
    torch.set_num_threads(threads)
    mp.undo()


def test_runtime_logits_match_torch_step_by_step(setup):
    model_dir, onnx_dir, scenes = setup
    model, tokenizer, processor = load_pretrained(model_dir)
    loc = tokenizer.convert_tokens_to_ids("<loc>")
    pick = tokenizer.convert_tokens_to_ids("pick")
    report = ParityReport()
    tokens = [pick, loc, 20, pick, loc, 21, 22, loc] * 3
    compare(TorchRuntime(model), OrtRuntime(onnx_dir, threads=1), processor(scenes[0].rgb).numpy(), [2, 30, 31, SEP],
            tokens, report)
    assert report.steps == len(tokens) + 1 and report.argmax_agree == report.steps
    assert report.max_logit_diff < 1e-4
    assert report.max_pointer_diff < 1e-4 and report.max_offset_diff < 1e-4


def test_engine_loop_decodes_what_the_torch_loop_decodes(setup):
    model_dir, onnx_dir, scenes = setup
    model, tokenizer, processor = load_pretrained(model_dir)
    runtime = OrtRuntime(onnx_dir, threads=1)
    pick = tokenizer.convert_tokens_to_ids("pick")
    loc = tokenizer.convert_tokens_to_ids("<loc>")
    pointed = banned = 0
    for scene in scenes:
        prompt = [*tokenizer.convert_tokens_to_ids(split_words(scene.instruction)), SEP]
        pixels = processor(scene.rgb)
        want = torch_decode(model, pixels, prompt, pick_token_id=pick)
        got = engine_decode(runtime, pixels.numpy(), prompt, pick_token_id=pick)
        assert got.token_ids == want.token_ids, scene.instruction
        np.testing.assert_allclose(got.points, want.points, atol=1e-3)
        np.testing.assert_allclose(got.confidences, want.confidences, atol=1e-5)
        pointed += len(got.points)
        ids = got.token_ids
        banned += sum(1 for i, t in enumerate(ids) if t == pick and (i == 0 or ids[i - 1] == loc) and loc in ids[i:])
    assert pointed > 10 and banned >= 2  # the pointer and the pick ban both ran


def test_same_plans_and_logits_within_tolerance_on_rendered_scenes(setup):
    model_dir, onnx_dir, scenes = setup
    report = run_parity(model_dir, onnx_dir, scenes, threads=1)
    assert report.ok, report.summary() + "\n" + "\n".join(report.mismatches)
    assert report.scenes == len(scenes) and report.same_plans == len(scenes)


def test_onnxruntime_grounder_matches_torch_grounder(setup):
    model_dir, _, scenes = setup
    torch_grounder = load_grounder(model_dir, backend="torch")
    torch_grounder.bf16_prefill = False  # float32, like the export (bfloat16 is a CPU speed option)
    ort_grounder = load_grounder(model_dir, backend="onnxruntime")
    assert ort_grounder.backend == "onnxruntime-cpu"
    for scene in scenes[:4]:
        timings: dict[str, float] = {}
        got = ort_grounder.decode(scene.rgb, scene.instruction, timings)
        want = torch_grounder.decode(scene.rgb, scene.instruction)
        assert got.token_ids == want.token_ids
        np.testing.assert_allclose(got.points, want.points, atol=1e-3)
        assert set(timings) == {"vision", "prefill", "decode"}


def test_shipped_model_same_plans_with_prior_grammar_and_presence_check(setup):  # setup: the cache
    """The shipped weights use everything the random model may not reach: the pointer prior, the
    grammar mask, the put-all completion (on_eos) and verify_program (presence_threshold > 0)."""
    torch_grounder = load_grounder(SHIPPED, backend="torch")
    torch_grounder.bf16_prefill = False  # float32, like the export
    ort_grounder = load_grounder(SHIPPED, backend="onnxruntime")
    assert ort_grounder.backend == "onnxruntime-cpu"
    assert ort_grounder.presence_threshold == torch_grounder.presence_threshold > 0
    scenes = render_bench_scenes(20)
    for scene in scenes:
        want = torch_grounder.ground(scene.rgb, scene.instruction)
        got = ort_grounder.ground(scene.rgb, scene.instruction)
        assert got.raw_output == want.raw_output, scene.instruction
    assert ort_grounder.refusal_overrule_threshold == torch_grounder.refusal_overrule_threshold
    for scene in scenes[:4]:  # the second decode, after an overruled refusal
        want = torch_grounder.decode(scene.rgb, scene.instruction, allow_refusal=False)
        got = ort_grounder.decode(scene.rgb, scene.instruction, allow_refusal=False)
        assert got.token_ids == want.token_ids and want.token_ids, scene.instruction
        np.testing.assert_allclose(got.points, want.points, atol=1e-3)


def test_a_pick_with_every_patch_banned_still_gets_a_finite_point():
    """Many picks of one label can ban the whole grid (an untrained model does it): the pointer must
    then choose among all patches rather than return NaN."""
    from vlm_ros.engines.decoding import choose_patch

    logits = np.arange(16, dtype=np.float32)
    probs, best, _ = choose_patch(logits, 4, banned=list(range(16)))
    assert np.isfinite(probs).all() and best == 15
    probs, best, _ = choose_patch(logits, 4, banned=[15])
    assert probs[15] == 0.0 and best == 14


def test_an_overruled_refusal_is_decoded_again_by_every_backend(tmp_path, setup):  # setup: the cache
    """A model that always starts with `refuse` (an untrained one whose lm_head favours it, seed 2): with
    the overrule threshold under the refused object's score, ground() decodes again without
    `refuse` and acts, on torch and ONNX Runtime alike; above the score, the refusal stands."""
    from vlm_ros.models.verify import presence_score

    model_dir = save_random_model(tmp_path / "refuser", "tiny", seed=2, only_tokens=["refuse", "red", "block"])
    torch_grounder = load_grounder(model_dir, backend="torch")
    torch_grounder.bf16_prefill = False
    ort_grounder = load_grounder(model_dir, backend="onnxruntime")
    scene = setup[2][0]
    first = torch_grounder.decode(scene.rgb, scene.instruction)
    words = torch_grounder.tokenizer.convert_ids_to_tokens(first.token_ids)
    assert words[0] == "refuse", words
    score = presence_score(" ".join(words[1:]), first.class_probs, torch_grounder.grid_size)
    for grounder in (torch_grounder, ort_grounder):
        grounder.presence_threshold = 0.0  # no presence check: the second program is kept as decoded
        grounder.refusal_overrule_threshold = score * 1.01
        assert grounder.ground(scene.rgb, scene.instruction).program.refused
        grounder.refusal_overrule_threshold = score * 0.99
        result = grounder.ground(scene.rgb, scene.instruction)
        assert not result.program.refused and len(result.program.steps) >= 2, result.raw_output
    assert ort_grounder.ground(scene.rgb, scene.instruction).raw_output == result.raw_output
