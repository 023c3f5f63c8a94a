"""Build TensorRT engines from the exported ONNX graphs, into `engines/cache/<key>/`.

One plan per graph. The decoder gets two optimization profiles, so one engine serves both
phases with kernels tuned for each: 0 = prefill (T in [1, max], empty past), 1 = decode
(T = 1, past in [1, max - 1]). The key covers GPU model, compute capability, TensorRT version,
ONNX content and precision, because a plan only deserializes where it was built. A timing
cache per GPU/TensorRT makes rebuilds (a retrained model, a new precision) much faster.

Precision: `fp16` uses the FP16 builder flag on a float32 graph where this TensorRT still has
it (10.x), with reductions and softmax pinned to float32 (RMSNorm's mean of squares overflows
fp16); where the flag is gone (TensorRT 11), the network is strongly typed and fp16 comes from
a float16 export (`vlm-ros export --dtype float16`).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.engines.cache import (
    atomic_write_bytes,
    cache_root,
    engine_key,
    hash_files,
    onnx_files,
    publish_dir,
    timing_cache_name,
)
from vlm_ros.engines.graphs import kv_names
from vlm_ros.engines.manifest import Manifest, ModelDims
from vlm_ros.engines.probe import TensorRTProbe, probe_tensorrt

BUILD_INFO = "build_info.json"
PREFILL_PROFILE, DECODE_PROFILE = 0, 1
MAX_LOCS = 8  # pointer calls are one `<loc>` at a time; a few more for batch scoring
MAX_PICKED = 9  # offsets at the chosen patch and its 3x3 neighbours
log = logging.getLogger(__name__)

Shape = tuple[int, ...]
Profile = dict[str, tuple[Shape, Shape, Shape]]  # input -> (min, opt, max)


def graph_profiles(d: ModelDims) -> dict[str, list[Profile]]:
    """Optimization profiles per graph (batch 1, as the runtimes run)."""
    p, w, longest = d.num_patches, d.hidden_size, d.max_positions
    prompt_max = longest - p
    typical = min(longest, p + 24)  # image + a typical instruction and program
    fixed = lambda *shape: (shape, shape, shape)  # noqa: E731
    past = kv_names(d.num_layers, "past")

    def words(*tail: int) -> tuple[Shape, Shape, Shape]:  # [1, instruction words, *tail]
        return (1, 1, *tail), (1, 12, *tail), (1, prompt_max, *tail)
    locs = ((1, 1, w), (1, 1, w), (1, MAX_LOCS, w))
    return {
        "vision": [{"pixel_values": fixed(1, 3, d.image_size, d.image_size)}],
        "embed": [{"input_ids": ((1, 1), (1, 1), (1, prompt_max)), "feedback": ((1, 1), (1, 1), (1, prompt_max))}],
        "decoder": [
            {"inputs_embeds": ((1, 1, w), (1, typical, w), (1, longest, w))}
            | {name: fixed(*d.kv_shape(0)) for name in past},
            {"inputs_embeds": fixed(1, 1, w)}
            | {name: (d.kv_shape(1), d.kv_shape(typical), d.kv_shape(longest - 1)) for name in past},
        ],
        "copy_keys": [{"instr_states": words(w)}],
        "token_scores": [{"state": fixed(1, 1, w), "copy_keys": words(d.copy_dim), "instr_ids": words(),
                          "instr_mask": words()}],
        "pointer_keys": [{"image_states": fixed(1, p, w)}],
        "pointer_scores": [{"loc_states": locs, "keys": fixed(1, p, d.pointer_dim)}],
        "pointer_offsets": [{"loc_states": locs, "offset_keys": fixed(1, p, d.offset_hidden),
                             "patches": ((1, 1, 1), (1, 1, MAX_PICKED), (1, MAX_LOCS, MAX_PICKED))}],
    }


@dataclass
class BuildOptions:
    fp16: bool = True
    workspace_mb: int = 1024  # builder scratch memory; Jetson Orin Nano shares 8 GB with the CPU
    cache_dir: Path | None = None  # default: cache_root()
    force: bool = False  # rebuild even if the key is cached


def engine_dir_for(onnx_dir: Path, probe: TensorRTProbe, options: BuildOptions) -> Path:
    onnx_hash = hash_files(onnx_files(Path(onnx_dir)))
    key = engine_key(probe.gpu_name, probe.compute_capability, probe.trt_version, onnx_hash,
                     "fp16" if options.fp16 else "fp32")
    return Path(options.cache_dir or cache_root()) / key


def _strongly_typed(trt, manifest: Manifest, fp16: bool) -> bool:
    """Strong typing when the graph already carries fp16, or when this TensorRT has no FP16 flag."""
    if manifest.dtype == "float16":
        return True
    if fp16 and not hasattr(trt.BuilderFlag, "FP16"):
        raise ModelLoadError(f"TensorRT {trt.__version__} has no FP16 builder flag (strong typing only): export "
                             "with `vlm-ros export --dtype float16` and build from that directory.")
    return False


def _pin_fp32(trt, network) -> int:
    """Keep reductions and softmax in float32 under the FP16 flag (weakly typed networks only)."""
    names = ("REDUCE", "SOFTMAX", "NORMALIZATION")
    kinds = tuple(getattr(trt.LayerType, n) for n in names if hasattr(trt.LayerType, n))
    pinned = 0
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if layer.type in kinds:
            layer.precision = trt.float32
            pinned += 1
    return pinned


def build_plan(trt, logger, onnx_path: Path, profiles: list[Profile], strongly_typed: bool, fp16: bool,
               workspace_mb: int, timing_cache: bytes) -> tuple[bytes, bytes]:
    """One ONNX graph -> (serialized engine, updated timing cache)."""
    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ModelLoadError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
    if fp16 and not strongly_typed:
        config.set_flag(trt.BuilderFlag.FP16)
        if _pin_fp32(trt, network):
            config.set_flag(trt.BuilderFlag.PREFER_PRECISION_CONSTRAINTS)
    cache = config.create_timing_cache(timing_cache)
    config.set_timing_cache(cache, ignore_mismatch=False)
    for shapes in profiles:
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in shapes.items():
            profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise ModelLoadError(f"TensorRT failed to build an engine from {onnx_path} (see the TensorRT log above)")
    return bytes(plan), bytes(config.get_timing_cache().serialize())


def build_engines(onnx_dir: Path, options: BuildOptions | None = None, progress: bool = True) -> Path:
    """Build (or find in the cache) one engine per exported graph; returns the engine directory."""
    options = options or BuildOptions()
    probe = probe_tensorrt()
    if not probe.ok:
        raise ModelLoadError(f"TensorRT is unavailable: {probe.reason}")
    manifest = Manifest.load(onnx_dir)
    out_dir = engine_dir_for(onnx_dir, probe, options)
    if not options.force and (out_dir / BUILD_INFO).is_file():
        log.info("TensorRT engines cached in %s", out_dir)
        return out_dir
    import tensorrt as trt
    from tqdm import tqdm

    logger = trt.Logger(trt.Logger.WARNING)
    strongly_typed = _strongly_typed(trt, manifest, options.fp16)
    timing_path = out_dir.parent / timing_cache_name(probe.gpu_name, probe.compute_capability, probe.trt_version)
    timing = timing_path.read_bytes() if timing_path.is_file() else b""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    seconds = {}
    profiles = graph_profiles(manifest.dims)
    with tqdm(total=len(profiles), desc="build engines", unit="graph", disable=not progress) as bar:
        for name, graph_profile in profiles.items():
            bar.set_postfix_str(name)
            start = time.perf_counter()
            plan, timing = build_plan(trt, logger, Path(onnx_dir, manifest.graphs[name].file), graph_profile,
                                      strongly_typed, options.fp16, options.workspace_mb, timing)
            atomic_write_bytes(tmp / f"{name}.plan", plan)
            atomic_write_bytes(timing_path, timing)  # after every graph: a crash keeps the tuning done so far
            seconds[name] = round(time.perf_counter() - start, 1)
            bar.update()
    (tmp / "manifest.json").write_text((Path(onnx_dir) / "manifest.json").read_text())
    info = {"gpu": probe.gpu_name, "compute_capability": probe.compute_capability, "tensorrt": probe.trt_version,
            "precision": "fp16" if options.fp16 else "fp32", "strongly_typed": strongly_typed,
            "onnx_dir": str(Path(onnx_dir).resolve()), "build_seconds": seconds}
    atomic_write_bytes(tmp / BUILD_INFO, (json.dumps(info, indent=2) + "\n").encode())
    tmp.chmod(0o755)
    return publish_dir(tmp, out_dir, replace=options.force)
