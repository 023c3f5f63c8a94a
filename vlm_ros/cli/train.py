"""`vlm-ros train`: render scenes (if needed) and train the default grounding model."""

from __future__ import annotations

import argparse
import dataclasses
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    from vlm_ros.training.config import TrainConfig  # no torch at import time

    p = subparsers.add_parser("train", help="train the default grounding model on sim-rendered scenes",
                              description="Train the tabletop grounding model (resumes from OUT_DIR/checkpoint).")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default,
                           help=f"(default {f.default})")
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            p.add_argument(flag, type=kind, default=f.default, help=f"(default {f.default})")
    p.add_argument("--render", type=int, default=0,
                   help="first render this many training scenes into --data-dir (skipped where shards exist)")
    p.add_argument("--export", default="", help="copy the final model here (e.g. vlm_ros/weights/tabletop-tiny)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import shutil
    from pathlib import Path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from vlm_ros.training.loop import TrainConfig, Trainer
    from vlm_ros.training.render_scenes import render_range

    cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    if args.render:
        render_range(Path(cfg.data_dir), 10_000_000, args.render)
        render_range(Path(cfg.val_dir), 20_000_000, 500)
    result = Trainer(cfg).train()
    print({k: round(v, 4) for k, v in result.items()})
    if args.export:
        shutil.copytree(Path(cfg.out_dir) / "final", args.export, dirs_exist_ok=True)
        print(f"model written to {args.export}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vlm-ros")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
