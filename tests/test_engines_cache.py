"""Engine cache: keys that change with GPU, compute capability, TensorRT, ONNX and precision;
writes that are atomic; directories published whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vlm_ros.engines.cache import (
    atomic_write_bytes,
    cache_root,
    engine_key,
    hash_files,
    publish_dir,
    timing_cache_name,
)

BASE = ("NVIDIA Jetson AGX Orin", "8.7", "10.3.0", "ab" * 32, "fp16")


def test_engine_key_changes_with_every_component_and_only_then():
    key = engine_key(*BASE)
    assert key == engine_key(*BASE) and len(key) == 16
    for i, other in enumerate(["NVIDIA GeForce RTX 4090", "8.9", "10.7.0", "cd" * 32, "fp32"]):
        changed = list(BASE)
        changed[i] = other
        assert engine_key(*changed) != key, f"component {i} is not in the key"


def test_timing_cache_is_shared_across_graphs_but_not_gpus():
    assert timing_cache_name(*BASE[:3]) == timing_cache_name(*BASE[:3])
    assert timing_cache_name(*BASE[:3]) != timing_cache_name("Orin Nano", "8.7", "10.3.0")


def test_hash_files_covers_names_and_contents(tmp_path):
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(b"graph a")
    b.write_bytes(b"graph b")
    first = hash_files([a, b])
    assert hash_files([b, a]) == first  # order-free
    b.write_bytes(b"graph B")
    assert hash_files([a, b]) != first
    assert hash_files([a], extra="fp16") != hash_files([a])


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "deep" / "engine.plan"
    atomic_write_bytes(path, b"old engine")
    atomic_write_bytes(path, b"new engine")
    assert path.read_bytes() == b"new engine"
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # fails inside the write, after the temp file exists
    assert path.read_bytes() == b"new engine"
    assert sorted(p.name for p in path.parent.iterdir()) == ["engine.plan"]  # no temp file left


def test_publish_dir_keeps_a_finished_cache_entry_or_replaces_on_request(tmp_path):
    final = tmp_path / "key"

    def staged(content: str) -> Path:
        d = tmp_path / f".staging-{content}"
        d.mkdir()
        (d / "engine.plan").write_text(content)
        return d

    publish_dir(staged("first"), final)
    publish_dir(staged("second"), final)  # another process finished first: theirs is kept
    assert (final / "engine.plan").read_text() == "first"
    publish_dir(staged("third"), final, replace=True)
    assert (final / "engine.plan").read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_cache_root_is_the_checkout_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("VLM_ROS_ENGINE_CACHE", raising=False)
    root = cache_root()
    assert root.parts[-2:] == ("engines", "cache") or root.parts[-3:] == (".cache", "vlm_ros", "engines")
    monkeypatch.setenv("VLM_ROS_ENGINE_CACHE", os.fspath(tmp_path))
    assert cache_root() == tmp_path
