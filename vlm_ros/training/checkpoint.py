"""Resumable checkpoints without pickles: model via save_pretrained, optimizer as safetensors + JSON."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def save_optimizer(opt: torch.optim.Optimizer, path: Path, extra: dict) -> None:
    state = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in state["state"].items():
        for key, value in st.items():
            if torch.is_tensor(value) and value.ndim > 0:
                tensors[f"{idx}.{key}"] = value.contiguous()
            else:
                scalars[f"{idx}.{key}"] = float(value)
    save_file(tensors, str(path / "optimizer.safetensors"))
    (path / "trainer_state.json").write_text(json.dumps(
        {"param_groups": state["param_groups"], "scalars": scalars, **extra}, indent=1))


def load_optimizer(opt: torch.optim.Optimizer, path: Path) -> dict:
    meta = json.loads((path / "trainer_state.json").read_text())
    tensors = load_file(str(path / "optimizer.safetensors"))
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    for name, value in meta["scalars"].items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = torch.tensor(value)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta
