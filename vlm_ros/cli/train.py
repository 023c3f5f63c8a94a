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
    p.add_argument("--recipe", default="",
                   help="train a named recipe from scratch (vlm_ros/training/recipes.py): tabletop-tiny-v2 is the "
                        "default model's; renders its scenes, then trains. Only --threads, --device, --max-minutes, "
                        "--checkpoint-minutes and the three directories may be changed with it")
    p.add_argument("--resume", action="store_true",
                   help="continue OUT_DIR/checkpoint exactly (with --recipe: required when a checkpoint exists)")
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

    if args.recipe:
        return run_recipe(args)
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


def run_recipe(args: argparse.Namespace) -> int:
    """--recipe NAME: render the recipe's scenes (resumable per shard), then train it, resuming
    only when asked and only a checkpoint of the same recipe."""
    import shutil
    from pathlib import Path

    from vlm_ros.training.config import TrainConfig
    from vlm_ros.training.loop import RecipeMismatch, Trainer
    from vlm_ros.training.recipes import RUNTIME_FIELDS, get_recipe
    from vlm_ros.training.render_scenes import render_range

    try:
        recipe = get_recipe(args.recipe)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    defaults = TrainConfig()
    edited = [f.name for f in dataclasses.fields(TrainConfig)
              if f.name not in RUNTIME_FIELDS and getattr(args, f.name) != getattr(defaults, f.name)]
    if edited or args.render:
        print(f"error: --recipe fixes {', '.join(edited) or 'the rendering'}; edit vlm_ros/training/recipes.py "
              "to make a new recipe instead", file=sys.stderr)
        return 2
    runtime = {name: getattr(args, name) for name in RUNTIME_FIELDS if getattr(args, name) != getattr(defaults, name)}
    cfg = dataclasses.replace(recipe.train, **runtime)
    if (Path(cfg.out_dir) / "checkpoint" / "trainer_state.json").exists() and not args.resume:
        print(f"error: {cfg.out_dir}/checkpoint exists: pass --resume to continue it, or a fresh --out-dir",
              file=sys.stderr)
        return 2
    from vlm_ros.models.processor import ImageProcessor

    processor = ImageProcessor(recipe.processor)
    print(f"recipe {recipe.name} ({recipe.fingerprint()}): {recipe.summary}", flush=True)
    # one PyBullet renderer per thread asked for: rendering is most of a sitting's setup
    render_range(Path(cfg.data_dir), recipe.train_seed, recipe.train_scenes, processor=processor,
                 randomization=recipe.randomization, workers=cfg.threads)
    render_range(Path(cfg.val_dir), recipe.val_seed, recipe.val_scenes, processor=processor,
                 randomization=recipe.randomization, workers=cfg.threads)
    try:
        trainer = Trainer(cfg, processor_config=recipe.processor, recipe=recipe.fingerprint())
    except RecipeMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = trainer.train()
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
