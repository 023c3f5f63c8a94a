"""Can TensorRT run here? Answered without ever risking the calling process.

Importing TensorRT or initialising CUDA on a machine with a broken or missing driver can
abort the interpreter (not raise), so the cheap checks come first (is the package there, is
there a GPU device node), and the real check (import tensorrt, create a builder, ask PyTorch
for the GPU) runs in a child process with a timeout. The answer is cached per process.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass

PROBE_TIMEOUT_S = 60.0
DEVICE_NODES = ("/dev/nvidia[0-9]*", "/dev/nvhost-ctrl-gpu", "/dev/nvgpu/igpu0/ctrl")  # desktop GPUs, Jetson

_CHILD = r"""
import json
out = {}
try:
    import tensorrt as trt
    out["trt_version"] = trt.__version__
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))  # touches the driver: fails here without a GPU
    del builder
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("PyTorch " + torch.__version__ + " has no CUDA (the TensorRT runtime keeps its "
                           "buffers in torch CUDA tensors): install a CUDA build of torch")
    out["gpu_name"] = torch.cuda.get_device_name(0)
    out["compute_capability"] = "%d.%d" % torch.cuda.get_device_capability(0)
    out["ok"] = True
except BaseException as error:
    out["ok"] = False
    out["reason"] = type(error).__name__ + ": " + str(error)
print("PROBE " + json.dumps(out))
"""


@dataclass(frozen=True)
class TensorRTProbe:
    ok: bool
    reason: str = ""  # why not, in a sentence
    trt_version: str = ""
    gpu_name: str = ""
    compute_capability: str = ""  # "8.7" on Jetson Orin


def gpu_device_nodes() -> list[str]:
    return [path for pattern in DEVICE_NODES for path in glob.glob(pattern)]


def _probe_child(timeout_s: float) -> TensorRTProbe:
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return TensorRTProbe(False, f"probing TensorRT took over {timeout_s:.0f} s (GPU busy or driver hung)")
    line = next((s for s in done.stdout.splitlines() if s.startswith("PROBE ")), None)
    if line is None:
        tail = (done.stderr or "").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return TensorRTProbe(False, f"the TensorRT probe process died ({tail[0]})")
    data = json.loads(line[len("PROBE "):])
    if not data.pop("ok"):
        return TensorRTProbe(False, data.get("reason", "unknown"), data.get("trt_version", ""))
    return TensorRTProbe(True, "", **data)


@functools.lru_cache(maxsize=1)
def probe_tensorrt(timeout_s: float = PROBE_TIMEOUT_S) -> TensorRTProbe:
    """TensorRT version, GPU name and compute capability, or the reason TensorRT cannot run."""
    if importlib.util.find_spec("tensorrt") is None:
        return TensorRTProbe(False, "the tensorrt Python package is not installed (on Jetson: JetPack's "
                                    "python3-libnvinfer, seen from a venv made with --system-site-packages)")
    if not gpu_device_nodes():
        return TensorRTProbe(False, "no NVIDIA GPU device (/dev/nvidia*, /dev/nvhost-ctrl-gpu) on this machine")
    return _probe_child(timeout_s)
