"""A few training steps on synthetic scenes lower the loss, and a run resumes from its checkpoint."""

from __future__ import annotations

import json

import numpy as np

from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.training.config import TrainConfig
from vlm_ros.training.loop import Trainer
from vlm_ros.training.scenes import save_shard
from vlm_ros.training.synthetic import synthetic_locations, synthetic_scene


def make_data(root):
    proc = ImageProcessor(ImageProcessorConfig(image_size=32))
    root.mkdir()
    save_shard(root / "scenes_0000000.npz", [synthetic_scene(s, proc) for s in range(24)])
    (root / "locations.json").write_text(json.dumps(synthetic_locations(proc)))


def test_few_steps_lower_the_loss_and_resume(tmp_path):
    make_data(tmp_path / "data")
    cfg = TrainConfig(data_dir=str(tmp_path / "data"), val_dir=str(tmp_path / "none"), out_dir=str(tmp_path / "run"),
                      steps=30, images_per_step=4, instructions_per_image=4, lr=3e-3, warmup=3, eval_every=15,
                      val_examples=16, tiny=True, threads=1)
    trainer = Trainer(cfg, log=lambda *_: None)
    fixed = trainer.batch(0)
    with_loss = lambda: trainer.forward(fixed, 4)  # noqa: E731
    from vlm_ros.training.loss import grounding_loss

    before = grounding_loss(with_loss(), fixed)[1]["loss"]
    trainer.train()
    trainer.model.train()
    after = grounding_loss(with_loss(), fixed)[1]["loss"]
    assert after < before - 0.5
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [15, 30]
    assert (tmp_path / "run" / "final" / "model.safetensors").exists()
    # resume: a longer run starts where the checkpoint left off
    cfg.steps = 32
    again = Trainer(cfg, log=lambda *_: None)
    assert again.step == 30
    first = next(iter(again.model.state_dict().values()))
    np.testing.assert_array_equal(first.numpy(), next(iter(trainer.model.state_dict().values())).numpy())
