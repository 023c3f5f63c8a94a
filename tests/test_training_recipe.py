"""The v2 recipe: one command trains it from scratch, and `--resume` continues bit for bit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from vlm_ros.training.config import TrainConfig
from vlm_ros.training.loop import RecipeMismatch, Trainer
from vlm_ros.training.recipes import RECIPES, RUNTIME_FIELDS, V2, get_recipe
from vlm_ros.training.test_data import write_synthetic_dataset


def _config(tmp_path, out: str) -> TrainConfig:
    return TrainConfig(data_dir=str(tmp_path / "data"), val_dir=str(tmp_path / "none"), out_dir=str(tmp_path / out),
                       steps=8, images_per_step=4, instructions_per_image=4, lr=3e-3, warmup=3, eval_every=4,
                       val_examples=16, tiny=True, threads=1, bf16=True)


def _rows(path) -> list[dict]:
    return [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines()]


def test_resume_continues_exactly_to_the_bit(tmp_path):
    """8 steps straight == 3 steps, a checkpoint (an interruption), then 5 more from it."""
    write_synthetic_dataset(tmp_path / "data", 24)
    straight = Trainer(_config(tmp_path, "straight"), log=lambda *_: None, recipe="r1")
    straight.train()
    first = Trainer(_config(tmp_path, "resumed"), log=lambda *_: None, recipe="r1")
    first.train(until=3)
    assert not (tmp_path / "resumed" / "final").exists()
    second = Trainer(_config(tmp_path, "resumed"), log=lambda *_: None, recipe="r1")
    assert second.step == 3 and second.samples == 3 * 16
    second.train()
    a, b = straight.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name  # bit for bit, every tensor
    opt_a, opt_b = straight.opt.state_dict()["state"], second.opt.state_dict()["state"]
    for idx in opt_a:
        for key in opt_a[idx]:
            assert torch.equal(torch.as_tensor(opt_a[idx][key]), torch.as_tensor(opt_b[idx][key])), (idx, key)
    assert [r["val"] for r in _rows(tmp_path / "straight")] == [r["val"] for r in _rows(tmp_path / "resumed")]
    assert [r["step"] for r in _rows(tmp_path / "resumed")] == [4, 8]
    assert (tmp_path / "resumed" / "learning_curve.png").stat().st_size > 1000
    with pytest.raises(RecipeMismatch, match="not r2"):
        Trainer(_config(tmp_path, "resumed"), log=lambda *_: None, recipe="r2")


def test_a_time_based_checkpoint_is_written_between_evaluations(tmp_path):
    write_synthetic_dataset(tmp_path / "data", 12)
    cfg = _config(tmp_path, "timed")
    cfg.steps, cfg.eval_every, cfg.checkpoint_minutes = 3, 100, 1e-9  # every step is "a few minutes" later
    Trainer(cfg, log=lambda *_: None).train(until=2)
    state = json.loads((tmp_path / "timed" / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 2


def test_the_v2_recipe_is_one_fixed_fingerprinted_definition():
    assert get_recipe("tabletop-tiny-v2") is V2 and V2.randomization is not None
    assert V2.processor.crop == (0.0, 0.0, 1.0, 1.0) and V2.train.checkpoint_minutes > 0
    assert V2.train.steps > 1000 and V2.train.device == "auto"  # cuda when present, same recipe
    moved = dataclasses.replace(V2, train=dataclasses.replace(V2.train, threads=1, device="cuda", out_dir="elsewhere"))
    assert moved.fingerprint() == V2.fingerprint()  # where and how fast do not change the weights
    assert dataclasses.replace(V2, train=dataclasses.replace(V2.train, lr=1e-3)).fingerprint() != V2.fingerprint()
    assert set(RUNTIME_FIELDS) <= {f.name for f in dataclasses.fields(TrainConfig)}
    with pytest.raises(ValueError, match="unknown recipe"):
        get_recipe("tabletop-huge")


@pytest.mark.sim
def test_train_recipe_renders_trains_and_resumes_only_when_asked(tmp_path, capsys):
    from vlm_ros.cli import main

    recipe = RECIPES["tabletop-tiny-v2-smoke"]
    dirs = ["--data-dir", str(tmp_path / "data"), "--val-dir", str(tmp_path / "val"),
            "--out-dir", str(tmp_path / "run")]
    assert main(["train", "--recipe", recipe.name, *dirs]) == 0
    run = tmp_path / "run"
    assert (run / "final" / "model.safetensors").exists() and (run / "learning_curve.png").exists()
    rows = _rows(run)
    assert [r["step"] for r in rows] == [6, 12] and np.isfinite(rows[-1]["val"]["cm_median"])
    state = json.loads((run / "checkpoint" / "trainer_state.json").read_text())
    assert state["recipe"] == recipe.fingerprint() and state["step"] == recipe.train.steps
    shards = sorted((tmp_path / "data").glob("scenes_*.npz"))
    assert len(shards) == 1
    capsys.readouterr()
    assert main(["train", "--recipe", recipe.name, *dirs]) == 2  # a checkpoint exists and --resume is missing
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "--recipe", recipe.name, "--lr", "0.01", *dirs]) == 2  # a recipe is not edited by flags
    assert main(["train", "--recipe", recipe.name, "--resume", *dirs]) == 0  # done: nothing left to train
    assert shards == sorted((tmp_path / "data").glob("scenes_*.npz"))  # rendered once


def test_rendering_in_two_processes_writes_the_same_shards(tmp_path):
    """A scene depends on its seed alone, so shards rendered by two worker processes equal one process's."""
    from vlm_ros.models.processor import ImageProcessor
    from vlm_ros.training.render_scenes import render_range

    recipe = RECIPES["tabletop-tiny-v2-smoke"]
    kwargs = dict(start=recipe.train_seed, count=5, shard=2, processor=ImageProcessor(recipe.processor),
                  randomization=recipe.randomization, progress=False)
    one = render_range(tmp_path / "one", workers=1, **kwargs)
    two = render_range(tmp_path / "two", workers=2, **kwargs)
    names = [f"scenes_{recipe.train_seed + k:07d}.npz" for k in (0, 2, 4)]
    assert [p.name for p in one] == [p.name for p in two] == names
    for a, b in zip(one, two):
        with np.load(a) as x, np.load(b) as y:
            assert sorted(x.files) == sorted(y.files)
            for key in x.files:
                assert np.array_equal(x[key], y[key]), (a.name, key)
    assert not list((tmp_path / "two").glob("*.tmp.npz"))
