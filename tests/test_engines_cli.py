"""`vlm-ros export`, `build-engine` and `bench-latency` end to end on a tiny random model."""

from __future__ import annotations

import json

import pytest
import torch

from vlm_ros.cli import main
from vlm_ros.engines.manifest import GRAPHS
from vlm_ros.engines.probe import probe_tensorrt
from vlm_ros.engines.random_model import save_random_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("VLM_ROS_ENGINE_CACHE", str(tmp_path_factory.mktemp("cache")))
    threads = torch.get_num_threads()
    yield save_random_model(tmp_path_factory.mktemp("model") / "tabletop-test", "tiny", seed=6)
    torch.set_num_threads(threads)
    mp.undo()


def test_export_writes_graphs_and_manifest_then_checks_parity(model_dir, tmp_path, capsys):
    out = tmp_path / "onnx"
    assert main(["export", "--model", str(model_dir), "--out", str(out), "--parity", "3"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.json", *(f"{g}.onnx" for g in GRAPHS)])
    text = capsys.readouterr().out
    assert "3/3 identical plans" in text and "PASS" in text


def test_bench_latency_writes_the_documented_json(model_dir, tmp_path, capsys):
    out = tmp_path / "latency.json"
    assert main(["bench-latency", "--model", str(model_dir), "--backends", "torch,onnxruntime", "--scenes", "3",
                 "--warmup", "1", "--threads", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["backends"]) == {"torch", "onnxruntime"}
    for stages in result["backends"].values():
        for stage in ("preprocess", "vision", "prefill", "decode", "total"):
            assert set(stages[f"{stage}_ms"]) == {"p50", "p95"}
            assert stages[f"{stage}_ms"]["p50"] <= stages[f"{stage}_ms"]["p95"]
    assert result["same_plans"] is True
    assert "| onnxruntime |" in capsys.readouterr().out


@pytest.mark.skipif(probe_tensorrt().ok, reason="TensorRT works here: build-engine builds instead")
def test_build_engine_says_why_not_without_tensorrt(model_dir, capsys):
    assert main(["build-engine", "--model", str(model_dir), "--fp16"]) == 2
    assert "TensorRT is unavailable" in capsys.readouterr().out
