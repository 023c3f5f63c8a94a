"""Argument handling shared by the engine subcommands (export, build-engine, bench-latency)."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--model", help="model directory in save_pretrained form (default: shipped tabletop-tiny)")
    group.add_argument("--random-model", choices=("tiny", "default", "tiny-pointing", "default-pointing"),
                       help="a randomly initialised model of this size (cached), for trying the tools "
                            "before trained weights exist; -pointing: one that emits `pick` and `<loc>` "
                            "runs, so the pointer path runs too")


def resolve_model(args: argparse.Namespace) -> Path:
    """--model, or a cached random model, or the shipped weights."""
    if getattr(args, "random_model", None):
        import vlm_ros.models
        from vlm_ros.engines.cache import cache_root, hash_files
        from vlm_ros.engines.random_model import POINTING_TOKENS, save_random_model

        # keyed by the model code: a new module must not load as missing (randomly re-drawn) weights
        code = hash_files(Path(vlm_ros.models.__file__).parent.glob("*.py"))[:8]
        path = cache_root() / f"random-{args.random_model}-{code}"
        if not (path / "config.json").is_file():
            size, _, pointing = args.random_model.partition("-")
            save_random_model(path, size, only_tokens=POINTING_TOKENS if pointing else None)
        return path
    if getattr(args, "model", None):
        return Path(args.model)
    from vlm_ros.models import DEFAULT_WEIGHTS_PATH

    return DEFAULT_WEIGHTS_PATH


def command_line() -> str:
    return "vlm-ros " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def quiet_libraries() -> None:
    """Keep the progress bars readable: library chatter to warnings only, ours to info."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("vlm_ros").setLevel(logging.INFO)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass
