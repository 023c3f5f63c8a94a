"""TensorRT build and run against ONNX Runtime. Needs TensorRT and a CUDA GPU: skipped, with
the probe's reason, everywhere else (the cache-key, atomic-write and fallback logic it relies
on are tested on CPU in test_engines_cache.py and test_engines_backends.py)."""

from __future__ import annotations

import pytest

from vlm_ros.engines.probe import probe_tensorrt

PROBE = probe_tensorrt()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not PROBE.ok, reason=f"TensorRT cannot run here: {PROBE.reason}")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from vlm_ros.engines.export import ensure_onnx
    from vlm_ros.engines.random_model import save_random_model

    mp = pytest.MonkeyPatch()
    mp.setenv("VLM_ROS_ENGINE_CACHE", str(tmp_path_factory.mktemp("cache")))
    model_dir = save_random_model(tmp_path_factory.mktemp("model"), "tiny", seed=4,
                                  only_tokens=["pick", "<loc>", "<eos>"])
    yield model_dir, ensure_onnx(model_dir)
    mp.undo()


@pytest.mark.parametrize("fp16", [False, True], ids=["fp32", "fp16"])
def test_engine_matches_onnxruntime_step_by_step(built, fp16):
    from vlm_ros.engines.ort_runtime import OrtRuntime
    from vlm_ros.engines.parity import ParityReport, compare
    from vlm_ros.engines.scenes import render_bench_scenes
    from vlm_ros.engines.trt_builder import BuildOptions, build_engines
    from vlm_ros.engines.trt_runtime import TensorRTRuntime
    from vlm_ros.models.loading import load_pretrained
    from vlm_ros.models.tokenizer import SEP

    model_dir, onnx_dir = built
    engine_dir = build_engines(onnx_dir, BuildOptions(fp16=fp16), progress=False)
    _, tokenizer, processor = load_pretrained(model_dir)
    pick, loc = tokenizer.convert_tokens_to_ids(["pick", "<loc>"])
    report = ParityReport()
    scene = render_bench_scenes(1)[0]
    compare(OrtRuntime(onnx_dir), TensorRTRuntime(engine_dir), processor(scene.rgb).numpy(), [2, 30, 31, SEP],
            [pick, loc, 20, pick, loc, 21] * 4, report)
    tolerance = 5e-2 if fp16 else 1e-3
    assert report.max_logit_diff < tolerance and report.max_pointer_diff < tolerance, report.summary()


def test_engines_are_cached_by_key(built):
    from vlm_ros.engines.trt_builder import BUILD_INFO, BuildOptions, build_engines

    _, onnx_dir = built
    first = build_engines(onnx_dir, BuildOptions(fp16=True), progress=False)
    stamp = (first / "decoder.plan").stat().st_mtime_ns
    assert build_engines(onnx_dir, BuildOptions(fp16=True), progress=False) == first
    assert (first / "decoder.plan").stat().st_mtime_ns == stamp
    assert (first / BUILD_INFO).is_file()
    assert any(p.name.startswith("timing-") for p in first.parent.iterdir())


def test_tensorrt_grounder_decodes_like_onnxruntime(built):
    from vlm_ros.engines.scenes import render_bench_scenes
    from vlm_ros.models import load_grounder

    model_dir, _ = built
    trt_grounder = load_grounder(model_dir, backend="tensorrt", device="cuda")
    ort_grounder = load_grounder(model_dir, backend="onnxruntime", device="cpu")
    for scene in render_bench_scenes(3):
        assert trt_grounder.decode(scene.rgb, scene.instruction).token_ids == \
            ort_grounder.decode(scene.rgb, scene.instruction).token_ids
