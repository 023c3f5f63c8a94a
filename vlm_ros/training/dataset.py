"""Training batches: rendered scenes x sampled instructions -> padded tensors.

Each batch holds `n_images` scenes with `k` instructions each (the image prefix is shared
in the model's forward). Targets: next-token labels after `<sep>`, the pointer's patch at
each `<loc>`, and sub-patch offsets on the 3x3 patches around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vlm_ros.core.vocabulary import COLORS, LOCATION_SYNONYMS, OBJECT_KINDS
from vlm_ros.models.labels import label_class
from vlm_ros.models.processor import ImageProcessor
from vlm_ros.models.tokenizer import EOS, LOC, SEP, UNK, split_words
from vlm_ros.training.grammar import PLURALS, Example, InstructionGrammar
from vlm_ros.training.scenes import FRAME_H, FRAME_W, Scene

IGNORE = -100
# words never dropped by augmentation: they carry the meaning
PROTECTED = set(COLORS) | {w for syn in OBJECT_KINDS.values() for w in syn} | set(PLURALS.values()) | {
    w for phrase in LOCATION_SYNONYMS for w in phrase.split()} | {"all", "every", "each", "then", "on", "in"}


@dataclass
class Augment:
    word_dropout: float = 0.05  # non-protected instruction word -> <unk>
    unk_insert: float = 0.03  # insert an <unk> before a word
    # in this share of instructions, each non-protected word -> <unk> with heavy_dropout: an unknown
    # verb or filler must not change who moves where, so roles come from the kind words and the order
    heavy_share: float = 0.12
    heavy_dropout: float = 0.5
    brightness: float = 0.10  # image scaled by U(1 - b, 1 + b)
    channel_gain: float = 0.05  # each channel scaled by U(1 - g, 1 + g)
    noise_std: float = 2.0  # additive Gaussian noise [0..255 units]


NO_AUGMENT = Augment(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def augment_image(rng: np.random.Generator, image: np.ndarray, aug: Augment) -> np.ndarray:
    if aug.brightness == 0 and aug.channel_gain == 0 and aug.noise_std == 0:
        return image
    x = image.astype(np.float32) * rng.uniform(1 - aug.brightness, 1 + aug.brightness)
    x = x * rng.uniform(1 - aug.channel_gain, 1 + aug.channel_gain, size=3)
    x = x + rng.normal(0.0, aug.noise_std, size=x.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


_REFERENCE: dict[str, dict] = {}  # the trained camera, computed once


def apparent_scale(processor: ImageProcessor, scene: Scene, point: tuple[float, float, float]) -> tuple[float, float]:
    """How much larger (x, y) an object at `point` looks in the model image of a randomised scene
    than from the trained camera: the patch-label footprints below are sized for that camera."""
    if scene.camera is None:
        return 1.0, 1.0
    from vlm_ros.training.metrics import reference_camera

    def per_model_px(cam: dict, width: int, height: int) -> tuple[float, float]:
        to_cam = np.linalg.inv(np.asarray(cam["camera_to_base"]).reshape(4, 4))
        z = float((to_cam @ np.append(np.asarray(point, dtype=float), 1.0))[2])
        u0, v0, u1, v1 = processor.crop_box(width, height)
        return cam["fx"] / max(z, 1e-3) / (u1 - u0), cam["fy"] / max(z, 1e-3) / (v1 - v0)

    ref = _REFERENCE.get("camera")
    if ref is None:
        intr, cam_to_base = reference_camera()
        ref = _REFERENCE["camera"] = {"fx": intr.fx, "fy": intr.fy, "camera_to_base": cam_to_base.reshape(-1)}
    sx, sy = per_model_px(scene.camera, *scene.frame_size)
    rx, ry = per_model_px(ref, FRAME_W, FRAME_H)
    return sx / rx, sy / ry


class BatchBuilder:
    def __init__(self, tokenizer, processor: ImageProcessor, grammar: InstructionGrammar, patch_size: int):
        self.tokenizer = tokenizer
        self.processor = processor
        self.grammar = grammar
        self.patch_size = patch_size
        self.grid = processor.config.image_size // patch_size

    def encode_instruction(self, rng: np.random.Generator | None, text: str, aug: Augment) -> list[int]:
        words = split_words(text)
        ids = self.tokenizer.convert_tokens_to_ids(words)
        if rng is None:
            return ids
        dropout = aug.heavy_dropout if rng.random() < aug.heavy_share else aug.word_dropout
        out: list[int] = []
        for w, i in zip(words, ids):
            if rng.random() < aug.unk_insert:
                out.append(UNK)
            out.append(UNK if w not in PROTECTED and rng.random() < dropout else i)
        return out

    def model_point(self, pixel: tuple[float, float],
                    frame: tuple[int, int] = (FRAME_W, FRAME_H)) -> tuple[float, float]:
        """A pixel of a (width, height) frame -> model coordinates."""
        return self.processor.frame_to_model(pixel[0], pixel[1], frame[0], frame[1])

    def patch_of(self, x: float, y: float) -> tuple[int, int]:
        g = self.grid
        return (min(max(int(y // self.patch_size), 0), g - 1), min(max(int(x // self.patch_size), 0), g - 1))

    def patch_labels(self, scene: Scene) -> torch.Tensor:
        """[P] auxiliary targets: 1 + 2 * colour index + (kind is bowl) on an object, 0 on clear table,
        IGNORE on the uncertain ring around objects. Footprints are ellipses in model pixels."""
        g, ps = self.grid, self.patch_size
        centres = (np.arange(g) + 0.5) * ps
        cx, cy = np.meshgrid(centres, centres)  # [G, G] patch centres (x, y)
        labels = np.zeros((g, g), dtype=np.int64)
        ring = np.zeros((g, g), dtype=bool)
        s = self.processor.config.image_size / 128.0
        for o in scene.objects:
            x, y = self.model_point(o.pixel, scene.frame_size)
            kx, ky = apparent_scale(self.processor, scene, o.point)
            rx, ry, dy = (10 * s, 14 * s, 0.0) if o.kind == "bowl" else (4 * s, 6 * s, 2 * s)
            rx, ry, dy = rx * kx, ry * ky, dy * ky
            d = np.hypot((cx - x) / rx, (cy - (y + dy)) / ry)
            cls = label_class(o.label)
            ring |= d <= 2.0
            labels[d <= 1.0] = cls
            r, c = self.patch_of(x, y)
            labels[r, c] = cls
        labels[ring & (labels == 0)] = IGNORE
        return torch.from_numpy(labels.reshape(-1))

    def build(self, rng: np.random.Generator, scenes: list[Scene], k: int, aug: Augment,
              examples: list[list[Example]] | None = None) -> dict[str, torch.Tensor]:
        """scenes: N scenes; k examples each (sampled unless given). Returns the batch tensors."""
        images, seqs, patch_labels = [], [], []
        for i, scene in enumerate(scenes):
            images.append(augment_image(rng, scene.image, aug))
            patch_labels.append(self.patch_labels(scene))
            exs = examples[i] if examples is not None else [self.grammar.sample(rng, scene) for _ in range(k)]
            for ex in exs:
                noisy = aug.word_dropout > 0 or aug.unk_insert > 0 or aug.heavy_share > 0
                instr = self.encode_instruction(rng if noisy else None, ex.instruction, aug)
                target = [*self.tokenizer.convert_tokens_to_ids(ex.target_words()), EOS]
                points = [(*self.model_point(s.pixel, scene.frame_size), label_class(s.label)) for s in ex.steps]
                seqs.append((instr, target, points))
        b = len(seqs)
        t = max(len(i) + 1 + len(tg) for i, tg, _ in seqs) - 1
        n_loc = max(1, max(len(p) for _, _, p in seqs))
        input_ids = torch.zeros(b, t, dtype=torch.long)
        labels = torch.full((b, t), IGNORE, dtype=torch.long)
        feedback = torch.full((b, t), -1, dtype=torch.long)
        loc_pos = torch.zeros(b, n_loc, dtype=torch.long)
        loc_mask = torch.zeros(b, n_loc, dtype=torch.bool)
        loc_patch = torch.zeros(b, n_loc, dtype=torch.long)
        loc_class = torch.full((b, n_loc), -1, dtype=torch.long)
        off_patches = torch.zeros(b, n_loc, 9, dtype=torch.long)
        off_targets = torch.zeros(b, n_loc, 9, 2)
        g, ps = self.grid, self.patch_size
        for row, (instr, target, points) in enumerate(seqs):
            seq = [*instr, SEP, *target]
            n = len(seq) - 1
            input_ids[row, :n] = torch.tensor(seq[:-1])
            labels[row, len(instr):n] = torch.tensor(seq[len(instr) + 1:])
            locs = [j for j in range(n) if seq[j] == LOC]
            assert len(locs) == len(points), "every <loc> needs a point"
            for li, (j, (x, y, cls)) in enumerate(zip(locs, points)):
                r, c = self.patch_of(x, y)
                loc_class[row, li] = cls
                loc_pos[row, li], loc_mask[row, li], loc_patch[row, li] = j, True, r * g + c
                if j + 1 < n:
                    feedback[row, j + 1] = r * g + c
                m = 0
                for dr in (-1, 0, 1):
                    for dc in (-1, 0, 1):
                        rr, cc = min(max(r + dr, 0), g - 1), min(max(c + dc, 0), g - 1)
                        off_patches[row, li, m] = rr * g + cc
                        off_targets[row, li, m, 0] = x / ps - cc
                        off_targets[row, li, m, 1] = y / ps - rr
                        m += 1
        return {
            "pixel_values": self.processor.normalize(np.stack(images)), "input_ids": input_ids, "labels": labels,
            "feedback": feedback, "loc_positions": loc_pos, "loc_mask": loc_mask, "loc_patch": loc_patch,
            "offset_patches": off_patches, "offset_targets": off_targets, "patch_labels": torch.stack(patch_labels),
            "loc_class": loc_class,
        }
