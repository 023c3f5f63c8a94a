"""`load_grounder(path, backend="onnxruntime" | "tensorrt")`: build a runtime or say why not, fast.

Each loader raises ModelLoadError with a sentence naming what is missing (package, GPU,
provider, files) so the node's `backend: auto` can log it and try the next backend. Missing
ONNX files are not a reason: they are exported on first use into the cache (a second or two
for the default model), so a fresh clone runs `backend: onnxruntime` without a manual step.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.engines.grounder import EngineGrounder

TRT_PRECISION_ENV = "VLM_ROS_TRT_PRECISION"  # fp16 (default) | fp32
log = logging.getLogger(__name__)


def _processors(path: Path):
    """Tokenizer and image processor only: the engine backends never need the PyTorch weights."""
    from transformers import PreTrainedTokenizerFast

    from vlm_ros.models.loading import REQUIRED_FILES
    from vlm_ros.models.processor import ImageProcessor

    if not path.is_dir():
        raise ModelLoadError(f"No model directory at {path}.")
    for name in REQUIRED_FILES:
        if not (path / name).is_file():
            raise ModelLoadError(f"The model at {path} is missing {path / name}.")
    return PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True), ImageProcessor.from_pretrained(path)


def _onnx_dir(path: Path, dtype: str = "float32") -> Path:
    from vlm_ros.engines.export import ensure_onnx

    try:
        return ensure_onnx(path, dtype)
    except ModelLoadError:
        raise
    except Exception as error:  # an export that fails is a broken model for these backends
        raise ModelLoadError(f"Could not export {path} to ONNX: {type(error).__name__}: {error}") from error


def load_onnxruntime_grounder(path: str | Path, device: str = "cpu", threads: int = 0) -> EngineGrounder:
    """ONNX Runtime on `device`. "cuda" without a CUDA provider falls back to the CPU provider,
    logged with the reason, because ONNX Runtime CPU comes before torch in the fallback order."""
    from vlm_ros.engines.ort_runtime import OrtRuntime, ort_providers

    path = Path(path)
    tokenizer, processor = _processors(path)
    if device.startswith("cuda"):
        try:
            ort_providers(device)
        except ModelLoadError as error:
            log.warning("onnxruntime on %s unavailable, using onnxruntime on cpu: %s", device, error)
            device = "cpu"
    runtime = OrtRuntime(_onnx_dir(path), device=device, threads=threads)
    return EngineGrounder(runtime, tokenizer, processor, f"tabletop-vlm:{path.name}")


def load_tensorrt_grounder(path: str | Path, device: str = "cuda") -> EngineGrounder:
    """TensorRT engines for this GPU, built on first use (minutes on a Jetson) and cached."""
    from vlm_ros.engines.probe import probe_tensorrt

    path = Path(path)
    if not device.startswith("cuda"):
        raise ModelLoadError(f"TensorRT runs on a CUDA device, and the device parameter is {device!r}.")
    probe = probe_tensorrt()
    if not probe.ok:
        raise ModelLoadError(f"TensorRT is unavailable: {probe.reason}")
    tokenizer, processor = _processors(path)
    from vlm_ros.engines.trt_builder import BuildOptions, build_engines
    from vlm_ros.engines.trt_runtime import TensorRTRuntime

    fp16 = os.environ.get(TRT_PRECISION_ENV, "fp16") != "fp32"
    import tensorrt as trt

    dtype = "float16" if fp16 and not hasattr(trt.BuilderFlag, "FP16") else "float32"
    engine_dir = build_engines(_onnx_dir(path, dtype), BuildOptions(fp16=fp16), progress=False)
    runtime = TensorRTRuntime(engine_dir, device)
    return EngineGrounder(runtime, tokenizer, processor, f"tabletop-vlm:{path.name}")


def load_torch_runtime_grounder(path: str | Path, device: str = "cpu", dtype: str = "float32") -> EngineGrounder:
    """The PyTorch model behind this package's loop, optionally in float16 (CUDA): the torch
    baseline for GPU measurements, which the torch backend itself runs in float32 only."""
    import torch

    from vlm_ros.engines.runtime import TorchRuntime
    from vlm_ros.models.loading import load_pretrained

    model, tokenizer, processor = load_pretrained(path)
    model = model.to({"float32": torch.float32, "float16": torch.float16}[dtype])
    runtime = TorchRuntime(model, device)
    runtime.name = f"torch-{dtype}-{device}"
    return EngineGrounder(runtime, tokenizer, processor, f"tabletop-vlm:{Path(path).name}")
