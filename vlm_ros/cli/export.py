"""`vlm-ros export`: the model as ONNX graphs (vision, embed, decoder with KV cache, pointer) + manifest.json.

With --parity N, the export is then checked against PyTorch on N rendered scenes: identical
plans, and logits within the tolerance stated in vlm_ros/engines/parity.py.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from vlm_ros.core.errors import ModelLoadError
    from vlm_ros.engines.cli_support import quiet_libraries, resolve_model
    from vlm_ros.engines.export import default_onnx_dir, export_path

    quiet_libraries()
    model = resolve_model(args)
    out = Path(args.out) if args.out else default_onnx_dir(model, args.dtype)
    start = time.perf_counter()
    try:
        manifest = export_path(model, out, args.dtype, progress=True)
    except ModelLoadError as error:
        print(f"error: {error}")
        return 1
    print(f"exported {model} -> {out} in {time.perf_counter() - start:.1f} s")
    for graph in manifest.graphs.values():
        size = Path(out, graph.file).stat().st_size / 1e6
        ins = ", ".join(f"{t.name}{t.shape}" for t in graph.inputs)
        outs = ", ".join(f"{t.name}{t.shape}" for t in graph.outputs)
        print(f"  {graph.file:21s} {size:6.1f} MB  {ins} -> {outs}")
    if not args.parity:
        return 0
    from vlm_ros.engines.parity import run_parity
    from vlm_ros.engines.scenes import render_bench_scenes

    if manifest.dtype != "float32":
        print("parity is checked on float32 exports only (float16 is for TensorRT)")
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    scenes = render_bench_scenes(args.parity)
    report = run_parity(model, out, scenes, threads=args.threads, progress=True)
    print(report.summary())
    for line in report.mismatches:
        print("  " + line)
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from vlm_ros.engines.cli_support import add_model_arguments

    parser = subparsers.add_parser("export", help="export the model to ONNX (for onnxruntime and tensorrt)",
                                   description=__doc__)
    add_model_arguments(parser)
    parser.add_argument("--out", help="output directory (default: engines/cache/onnx/<model>-<hash>/)")
    parser.add_argument("--dtype", choices=("float32", "float16"), default="float32",
                        help="float16 only for TensorRT builds without the FP16 flag (TensorRT 11)")
    parser.add_argument("--parity", type=int, default=0, metavar="N",
                        help="then compare with PyTorch on N rendered scenes (200 for the release check)")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads of torch and onnxruntime for the parity run (default: their own)")
    parser.set_defaults(func=run)
