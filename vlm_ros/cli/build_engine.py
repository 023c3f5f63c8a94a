"""`vlm-ros build-engine`: TensorRT engines from an ONNX export, cached per GPU / TensorRT / ONNX hash.

Build on the machine that will run them (a Jetson builds its own): plans do not move between
GPU models or TensorRT versions. Engines land in OUT/<key>/ (default engines/cache/<key>/).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from vlm_ros.core.errors import ModelLoadError
    from vlm_ros.engines.cli_support import quiet_libraries, resolve_model
    from vlm_ros.engines.export import ensure_onnx
    from vlm_ros.engines.probe import probe_tensorrt
    from vlm_ros.engines.trt_builder import BuildOptions, build_engines

    quiet_libraries()
    probe = probe_tensorrt()
    if not probe.ok:
        print(f"TensorRT is unavailable: {probe.reason}")
        return 2
    print(f"TensorRT {probe.trt_version} on {probe.gpu_name} (sm {probe.compute_capability})")
    options = BuildOptions(fp16=args.fp16, workspace_mb=args.workspace_mb,
                           cache_dir=Path(args.out) if args.out else None, force=args.force)
    try:
        onnx_dir = Path(args.onnx) if args.onnx else ensure_onnx(resolve_model(args))
        engine_dir = build_engines(onnx_dir, options, progress=True)
    except ModelLoadError as error:
        print(f"error: {error}")
        return 1
    print(f"engines in {engine_dir}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from vlm_ros.engines.cli_support import add_model_arguments

    parser = subparsers.add_parser("build-engine", help="build TensorRT engines from the ONNX export",
                                   description=__doc__)
    parser.add_argument("--onnx", help="ONNX export directory (default: export --model into the cache first)")
    add_model_arguments(parser)
    parser.add_argument("--out", help="engine cache root (default: engines/cache)")
    parser.add_argument("--fp16", action="store_true", help="FP16 kernels (reductions and softmax stay FP32)")
    parser.add_argument("--workspace-mb", type=int, default=1024, help="builder workspace limit [MiB]")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.set_defaults(func=run)
