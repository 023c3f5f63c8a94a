"""Training hyper-parameters: defaults in one place, one comment each. No heavy imports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    data_dir: str = "build/datasets/tabletop"  # rendered training scenes (render_scenes)
    val_dir: str = "build/datasets/tabletop-val"  # held-out seeds for the periodic evaluation
    out_dir: str = "runs/tabletop-tiny"  # checkpoints, metrics.jsonl, final model in out_dir/final
    steps: int = 1500  # optimizer steps
    images_per_step: int = 8  # scenes per batch
    instructions_per_image: int = 8  # instructions sharing each scene's image prefix
    lr: float = 1.5e-3  # peak AdamW learning rate
    min_lr_ratio: float = 0.05  # cosine floor, as a fraction of lr
    warmup: int = 60  # linear warm-up steps
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    patch_weight: float = 0.5  # weight of the patch classifier's loss (it drives the presence check)
    eval_every: int = 50  # steps between teacher-forced evaluations (and checkpoints)
    val_examples: int = 256  # size of the fixed evaluation set
    seed: int = 0
    threads: int = 2  # torch CPU threads
    device: str = "auto"  # auto: cuda when available
    max_minutes: float = 0.0  # stop (and save) after this wall time; 0 = no limit
    checkpoint_minutes: float = 0.0  # also checkpoint after this much wall time since the last one; 0 = off
    bf16: bool = True  # bfloat16 autocast (about 1.6x faster on CPUs with AVX512-BF16)
    tiny: bool = False  # tiny model for smoke tests
