"""Backend selection: TensorRT probing never crashes a machine without it, every skipped backend
gives its reason, and `auto` falls back TensorRT -> ONNX Runtime CUDA -> ONNX Runtime CPU."""

from __future__ import annotations

import logging
import time

import pytest

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.engines.loaders import load_tensorrt_grounder
from vlm_ros.engines.ort_runtime import ort_providers
from vlm_ros.engines.probe import _probe_child, probe_tensorrt
from vlm_ros.engines.random_model import save_random_model
from vlm_ros.models import load_grounder

NO_TRT = not probe_tensorrt().ok


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("VLM_ROS_ENGINE_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield save_random_model(tmp_path_factory.mktemp("model") / "tabletop-test", "tiny", seed=5)
    mp.undo()


@pytest.mark.skipif(not NO_TRT, reason="TensorRT works here; this checks machines without it")
def test_probe_answers_quickly_with_a_reason():
    probe_tensorrt.cache_clear()
    start = time.perf_counter()
    probe = probe_tensorrt()
    assert not probe.ok and len(probe.reason) > 20
    assert time.perf_counter() - start < 5.0


def test_probe_in_a_child_process_reports_instead_of_crashing():
    probe = _probe_child(timeout_s=120)
    if probe.ok:
        assert probe.trt_version and probe.gpu_name and probe.compute_capability
    else:
        assert probe.reason  # e.g. "ModuleNotFoundError: No module named 'tensorrt'"


@pytest.mark.skipif(not NO_TRT, reason="TensorRT works here")
def test_tensorrt_loader_refuses_with_the_reason(model_dir):
    with pytest.raises(ModelLoadError, match=r"TensorRT is unavailable|no NVIDIA GPU|not installed"):
        load_grounder(model_dir, backend="tensorrt", device="cuda")
    with pytest.raises(ModelLoadError, match="CUDA device"):
        load_tensorrt_grounder(model_dir, device="cpu")


def test_onnxruntime_cuda_falls_back_to_cpu_with_the_reason(model_dir, caplog):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the fallback is for builds without it")
    with pytest.raises(ModelLoadError, match="CUDAExecutionProvider"):
        ort_providers("cuda")
    with caplog.at_level(logging.WARNING):
        grounder = load_grounder(model_dir, backend="onnxruntime", device="cuda")
    assert grounder.backend == "onnxruntime-cpu"
    assert "CUDAExecutionProvider" in caplog.text


def test_auto_selection_logs_why_each_backend_was_skipped(model_dir, caplog):
    from vlm_ros.grounding.factory import make_grounder

    if not NO_TRT:
        pytest.skip("TensorRT works here: auto picks it")
    with caplog.at_level(logging.WARNING):
        grounder = make_grounder("auto", str(model_dir), device="cuda")
    assert grounder.backend.startswith("onnxruntime")
    assert "tensorrt" in caplog.text and "falling back" in caplog.text


def test_missing_model_directory_is_a_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="No model directory"):
        load_grounder(tmp_path / "nowhere", backend="onnxruntime")
