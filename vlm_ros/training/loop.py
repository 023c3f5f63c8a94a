"""The training loop: seeded, resumable, evaluated at intervals, GPU when present."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from vlm_ros.models.config import default_config, tiny_config
from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.models.tabletop_vlm import TabletopVlm
from vlm_ros.models.tokenizer import build_tokenizer
from vlm_ros.training.checkpoint import load_optimizer, save_optimizer
from vlm_ros.training.config import TrainConfig
from vlm_ros.training.dataset import NO_AUGMENT, Augment, BatchBuilder
from vlm_ros.training.grammar import InstructionGrammar, load_template_set, vocabulary_texts
from vlm_ros.training.loss import grounding_loss
from vlm_ros.training.metrics import point_error_cm, reference_camera
from vlm_ros.training.scenes import load_shards


def scene_camera(scene, reference):
    """(intrinsics, camera_to_base) a scene was rendered with: its own when randomised."""
    if scene.camera is None:
        return reference
    from vlm_ros.core.types import CameraIntrinsics

    c = scene.camera
    intr = CameraIntrinsics(fx=c["fx"], fy=c["fy"], cx=c["cx"], cy=c["cy"], width=c["width"], height=c["height"])
    return intr, np.asarray(c["camera_to_base"]).reshape(4, 4)


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


class RecipeMismatch(ValueError):
    """A checkpoint of another recipe (or of edited settings) would be resumed."""


class Trainer:
    def __init__(self, cfg: TrainConfig, log=print, processor_config: ImageProcessorConfig | None = None,
                 recipe: str = ""):
        """processor_config: the model's image processor for a fresh run (default: the v1 crop at
        128 px, 32 px for tiny). recipe: the recipe's fingerprint, stored in every checkpoint; a
        checkpoint with another one is refused (RecipeMismatch) rather than resumed."""
        self.cfg, self.log = cfg, log
        self.recipe = recipe
        torch.manual_seed(cfg.seed)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available()
                                   else ("cpu" if cfg.device == "auto" else cfg.device))
        self.out = Path(cfg.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        data = Path(cfg.data_dir)
        self._shards = sorted(data.glob("scenes_*[0-9].npz"))
        self.scenes = load_shards(self._shards)
        self.val_scenes = load_shards(sorted(Path(cfg.val_dir).glob("scenes_*.npz")))
        if not self.scenes:
            raise FileNotFoundError(f"no rendered scenes in {data}; run render_scenes first")
        locations = {k: tuple(v) for k, v in json.loads((data / "locations.json").read_text()).items()}
        templates = load_template_set("train")
        self.grammar = InstructionGrammar(templates, locations)
        ckpt = self.out / "checkpoint"
        if (ckpt / "config.json").exists():
            self.model = TabletopVlm.from_pretrained(ckpt)
            from transformers import PreTrainedTokenizerFast

            self.tokenizer = PreTrainedTokenizerFast.from_pretrained(ckpt)
            self.processor = ImageProcessor.from_pretrained(ckpt)
        else:
            self.tokenizer = build_tokenizer(vocabulary_texts(templates))
            fresh = processor_config or ImageProcessorConfig(image_size=32 if cfg.tiny else 128)
            self.processor = ImageProcessor(fresh)
            make = tiny_config if cfg.tiny else default_config
            self.model = TabletopVlm(make(len(self.tokenizer)))
        self.model.to(self.device)
        self.builder = BatchBuilder(self.tokenizer, self.processor, self.grammar,
                                    self.model.config.vision_config.patch_size)
        if cfg.tiny:  # tiny models see tiny images
            for s in self.scenes + self.val_scenes:
                s.image = self.processor.resize(s.image) if s.image.shape[0] != 32 else s.image
        decay = [p for n, p in self.model.named_parameters() if p.ndim >= 2 and "embed" not in n]
        other = [p for n, p in self.model.named_parameters() if not (p.ndim >= 2 and "embed" not in n)]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                      {"params": other, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
        self.step, self.elapsed, self.samples = 0, 0.0, 0  # samples: instructions seen so far
        self.rewarm_from = 0
        if (ckpt / "trainer_state.json").exists():
            import json as _json

            meta = _json.loads((ckpt / "trainer_state.json").read_text())
            if recipe and meta.get("recipe", "") != recipe:
                raise RecipeMismatch(f"{ckpt} was trained with recipe {meta.get('recipe') or '(none)'}, not {recipe}: "
                                     "resume it with the settings it started with, or train into a fresh --out-dir")
            self.step, self.elapsed = meta["step"], meta["elapsed_s"]
            # older checkpoints lack the count; the batch shape may have changed since, so it is a guess
            self.samples = meta.get("samples", self.step * cfg.images_per_step * cfg.instructions_per_image)
            try:
                load_optimizer(self.opt, ckpt)
            except (ValueError, KeyError, RuntimeError) as error:  # the model gained parameters
                self.rewarm_from = self.step
                self.log(f"optimizer state does not fit the model ({error}); fresh optimizer, re-warm-up")
            self.log(f"resumed from {ckpt} at step {self.step}")
            self._drop_metrics_after(self.step)
        self.camera = reference_camera()
        self._val = self._make_val()

    def _drop_metrics_after(self, step: int) -> None:
        """Rows logged after the checkpoint (an interrupted run) are logged again on resume."""
        path = self.out / "metrics.jsonl"
        if path.exists():
            rows = [line for line in path.read_text().splitlines() if line.strip()]
            path.write_text("".join(line + "\n" for line in rows if json.loads(line)["step"] <= step))

    def _make_val(self):
        rng = np.random.default_rng(12345)
        scenes = (self.val_scenes or self.scenes[-64:])[: max(1, self.cfg.val_examples // 8)]
        exs = [[self.grammar.sample(rng, s) for _ in range(8)] for s in scenes]
        return scenes, exs

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.cfg.seed, step])
        idx = rng.choice(len(self.scenes), size=self.cfg.images_per_step, replace=False)
        b = self.builder.build(rng, [self.scenes[i] for i in idx], self.cfg.instructions_per_image, Augment())
        return {k: v.to(self.device) for k, v in b.items()}

    def forward(self, b: dict[str, torch.Tensor], repeats: int):
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16):
            return self.model.forward_train(b["pixel_values"], b["input_ids"], b["feedback"], b["loc_positions"],
                                            b["offset_patches"], b["loc_class"], repeats=repeats)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        self.model.eval()
        scenes, exs = self._val
        stats_all, px_err, cm_err = [], [], []
        ps = self.model.config.vision_config.patch_size
        for i in range(0, len(scenes), 8):
            sc, ex = scenes[i:i + 8], exs[i:i + 8]
            b = self.builder.build(np.random.default_rng(0), sc, 8, NO_AUGMENT, examples=ex)
            b = {k: v.to(self.device) for k, v in b.items()}
            out = self.forward(b, 8)
            stats_all.append(grounding_loss(out, b, patch_weight=self.cfg.patch_weight)[1])
            g = self.builder.grid
            pred = out["pointer_logits"].argmax(-1)  # [B, L]
            steps = [(scene, s) for scene, row in zip(sc, ex) for e in row for s in e.steps]
            mask = b["loc_mask"]
            pred_m, off_p, off = pred[mask], b["offset_patches"][mask], out["offsets"][mask]  # [n], [n, 9], [n, 9, 2]
            for j, (scene, step) in enumerate(steps):
                p = int(pred_m[j])
                hit = (off_p[j] == p).nonzero()
                r, c = divmod(p, g)
                dx, dy = (off[j, int(hit[0, 0])].tolist() if len(hit) else (0.5, 0.5))
                u, v = self.processor.model_to_frame((c + dx) * ps, (r + dy) * ps, *scene.frame_size)
                px_err.append(math.hypot(u - step.pixel[0], v - step.pixel[1]))
                cm_err.append(point_error_cm(*scene_camera(scene, self.camera), (u, v), step.point))
        self.model.train()
        res = {k: float(np.mean([s[k] for s in stats_all])) for k in stats_all[0]}
        res.update(px_median=float(np.median(px_err)), cm_median=float(np.median(cm_err)),
                   cm_p90=float(np.percentile(cm_err, 90)), within_1cm=float(np.mean(np.array(cm_err) <= 1.0)))
        return res

    def _load_new_shards(self) -> None:
        """Pick up scenes still being rendered when training started."""
        known = {s.seed for s in self.scenes}
        paths = sorted(Path(self.cfg.data_dir).glob("scenes_*[0-9].npz"))
        new = [s for s in load_shards(paths[len(self._shards):]) if s.seed not in known] if len(paths) > len(
            self._shards) else []
        if new:
            if self.cfg.tiny:
                for s in new:
                    s.image = self.processor.resize(s.image)
            self.scenes += new
            self.log(f"loaded {len(new)} more scenes ({len(self.scenes)} in all)")
        self._shards = paths

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        self.processor.save_pretrained(path)

    def checkpoint(self) -> None:
        tmp = self.out / "checkpoint.tmp"
        self.save(tmp)
        save_optimizer(self.opt, tmp, {"step": self.step, "elapsed_s": self.elapsed, "samples": self.samples,
                                       "config": asdict(self.cfg), "recipe": self.recipe})
        final = self.out / "checkpoint"
        if final.exists():
            import shutil

            shutil.rmtree(final)
        tmp.rename(final)

    def train_step(self) -> dict[str, float]:
        """One optimizer step on the step's seeded batch -> its training stats."""
        cfg = self.cfg
        rewarm = min(1.0, (self.step - self.rewarm_from + 1) / cfg.warmup) if self.rewarm_from else 1.0
        for group in self.opt.param_groups:
            group["lr"] = lr_at(cfg, self.step) * rewarm
        b = self.batch(self.step)
        loss, stats = grounding_loss(self.forward(b, cfg.instructions_per_image), b, patch_weight=cfg.patch_weight)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.opt.step()
        self.step += 1
        self.samples += cfg.images_per_step * cfg.instructions_per_image
        return stats

    def train(self, until: int | None = None) -> dict[str, float]:
        """Train to cfg.steps (or stop after step `until`, checkpointed, as an interruption would),
        saving out_dir/final and the learning curve at the end."""
        from tqdm import tqdm

        cfg = self.cfg
        last_checkpoint = time.time()
        self.model.train()
        metrics_file = (self.out / "metrics.jsonl").open("a")
        bar = tqdm(total=cfg.steps, initial=self.step, desc="train", dynamic_ncols=True)
        t0 = time.time() - self.elapsed
        last: dict[str, float] = {}
        while self.step < cfg.steps:
            stats = self.train_step()
            self.elapsed = time.time() - t0
            bar.update(1)
            bar.set_postfix(loss=f"{stats['loss']:.3f}", patch=f"{stats['patch_acc']:.2f}")
            out_of_time = cfg.max_minutes > 0 and self.elapsed > cfg.max_minutes * 60
            if self.step % cfg.eval_every == 0 or self.step == cfg.steps or out_of_time:
                last = self.evaluate()
                row = {"step": self.step, "samples": self.samples,
                       "elapsed_s": round(self.elapsed, 1), "train": stats, "val": last}
                metrics_file.write(json.dumps(row) + "\n")
                metrics_file.flush()
                self.log(f"step {self.step} {row['samples']} samples {self.elapsed / 60:.1f} min "
                         f"val patch {last['patch_acc']:.3f} tok {last['tok_acc']:.3f} "
                         f"median {last['cm_median']:.2f} cm p90 {last['cm_p90']:.2f} cm")
                self.checkpoint()
                last_checkpoint = time.time()
                self._load_new_shards()
            elif cfg.checkpoint_minutes > 0 and time.time() - last_checkpoint > cfg.checkpoint_minutes * 60:
                self.checkpoint()
                last_checkpoint = time.time()
            if out_of_time:
                self.log(f"time budget of {cfg.max_minutes} min reached at step {self.step}")
                break
            if until is not None and self.step >= until and self.step < cfg.steps:
                self.checkpoint()
                bar.close()
                return last
        bar.close()
        self.save(self.out / "final")
        if (self.out / "metrics.jsonl").exists():
            from vlm_ros.training.plot import plot

            plot(self.out / "metrics.jsonl", self.out / "learning_curve.png", events=())
        return last
