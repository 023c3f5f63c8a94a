"""`vlm-ros demo`: the simulated robot carries out typed instructions with the default model."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from vlm_ros.bench.demo import main

    return main(args.out, args.backend, args.verbose)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the sim demo (what `make demo` runs)",
                                   description=__doc__)
    parser.add_argument("--out", default="out/demo", help="where before/after/debug images go")
    parser.add_argument("--backend", default="auto", help="auto, torch, onnxruntime, tensorrt, oracle")
    parser.add_argument("--verbose", action="store_true", help="show the nodes' output")
    parser.set_defaults(func=run)
