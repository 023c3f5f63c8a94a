"""Training loss: next-token CE + pointer CE + sub-patch offset L1, and teacher-forced metrics."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vlm_ros.training.dataset import IGNORE


def grounding_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], pointer_weight: float = 1.0,
                   offset_weight: float = 1.0, patch_weight: float = 0.5) -> tuple[torch.Tensor, dict[str, float]]:
    out = {k: v.float() for k, v in out.items()}
    logits = out["logits"]  # [B, T, V]
    lm = F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)
    mask = batch["loc_mask"]  # [B, L]
    ptr_logits = out["pointer_logits"][mask]  # [n, P]
    target = batch["loc_patch"][mask]  # [n]
    ptr = F.cross_entropy(ptr_logits, target)
    off = F.smooth_l1_loss(out["offsets"][mask], batch["offset_targets"][mask], beta=0.1)  # [n, 9, 2]
    patch = F.cross_entropy(out["patch_logits"].flatten(0, 1), batch["patch_labels"].flatten(), ignore_index=IGNORE)
    loss = lm + pointer_weight * ptr + offset_weight * off + patch_weight * patch
    with torch.no_grad():
        valid = batch["labels"] != IGNORE
        tok_acc = (logits.argmax(-1)[valid] == batch["labels"][valid]).float().mean()
        patch_acc = (ptr_logits.argmax(-1) == target).float().mean()
        centre = out["offsets"][mask][:, 4]  # offset predicted at the true patch
        off_err = (centre - batch["offset_targets"][mask][:, 4]).norm(dim=-1).mean()
    stats = {"loss": loss.item(), "lm": lm.item(), "ptr": ptr.item(), "off": off.item(), "patch": patch.item(),
             "tok_acc": tok_acc.item(), "patch_acc": patch_acc.item(), "off_err_patch": off_err.item()}
    return loss, stats
