"""`vlm-ros bench-latency`: backends side by side on the same rendered scenes, median and p95 per stage.

Example: vlm-ros bench-latency --backends torch,onnxruntime --scenes 50 --json out/latency.json
A backend may name its device: onnxruntime:cuda, torch:cuda (default: --device). Backends: torch (the
torch backend as the node runs it), onnxruntime, tensorrt, and torch-fp32 / torch-fp16 (the torch model behind
the engines' decoding loop, in that precision: the GPU baselines).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    import os

    import torch

    from vlm_ros.core.errors import ModelLoadError
    from vlm_ros.engines.bench import bench, format_table
    from vlm_ros.engines.cli_support import command_line, quiet_libraries, resolve_model
    from vlm_ros.engines.scenes import render_bench_scenes
    from vlm_ros.models import load_grounder

    quiet_libraries()
    model = resolve_model(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    grounders = {}
    for spec in args.backends.split(","):
        backend, _, device = spec.strip().partition(":")
        try:
            if backend == "onnxruntime":  # same intra-op thread count as torch, for a like-for-like run
                from vlm_ros.engines.loaders import load_onnxruntime_grounder

                grounders[spec.strip()] = load_onnxruntime_grounder(model, device or args.device, args.threads)
            elif backend in ("torch-fp32", "torch-fp16"):
                from vlm_ros.engines.loaders import load_torch_runtime_grounder

                dtype = "float16" if backend.endswith("16") else "float32"
                grounders[spec.strip()] = load_torch_runtime_grounder(model, device or args.device, dtype)
            else:
                grounders[spec.strip()] = load_grounder(model, backend=backend, device=device or args.device)
        except ModelLoadError as error:
            print(f"{spec}: cannot load: {error}")
            return 1
    scenes = render_bench_scenes(args.scenes + args.warmup)
    result = bench(grounders, scenes[args.warmup:], warmup=scenes[: args.warmup], progress=True)
    result["setup"] = {
        "command": command_line(), "model": str(model), "scenes": args.scenes, "warmup": args.warmup,
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "threads": args.threads or "library default", "torch_threads": torch.get_num_threads(),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
    print(format_table(result))
    print(f"same plans (tokens, points within 0.05 px) on all {args.scenes} scenes: {result['same_plans']} "
          f"(differing per backend: {result['plans_differing']})")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from vlm_ros.engines.cli_support import add_model_arguments

    parser = subparsers.add_parser("bench-latency", help="compare backend latency per stage", description=__doc__)
    parser.add_argument("--backends", default="torch,onnxruntime", help="comma-separated, first is the baseline")
    add_model_arguments(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--scenes", type=int, default=50, help="measured scenes per backend")
    parser.add_argument("--warmup", type=int, default=3, help="scenes run first and not measured")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads for torch and onnxruntime alike (default: each library's own)")
    parser.add_argument("--json", help="write the results here")
    parser.set_defaults(func=run)
