#!/usr/bin/env bash
# GPU measurements for docs/ENGINES.md, for a person with an NVIDIA GPU (desktop or Jetson).
# No GPU was available where the engines were written: run this, then paste its tables.
#
#   bash engines/gpu_check.sh [MODEL_DIR]        # default: the shipped vlm_ros/weights/tabletop-tiny
#
# Needs: the repo venv (make setup) plus a CUDA build of torch, onnxruntime-gpu and TensorRT's
# Python package (on Jetson: JetPack's, with a venv made with --system-site-packages, see
# docs/ENGINES.md). Each missing piece is reported and its measurement skipped; nothing else stops.
# Takes about 5-10 minutes (TensorRT builds dominate; cached afterwards). Results go to out/gpu/.
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=out/gpu
SCENES=${SCENES:-50}
mkdir -p "$OUT"
if [ $# -ge 1 ]; then MODEL=(--model "$1"); elif [ -f vlm_ros/weights/tabletop-tiny/config.json ]; then
  MODEL=(--model vlm_ros/weights/tabletop-tiny); else MODEL=(--random-model default); fi
log() { printf '\n== %s\n' "$*" | tee -a "$OUT/summary.txt"; }

log "machine"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || cat /etc/nv_tegra_release 2>/dev/null
  $PY - <<'PY'
import importlib
for name in ("torch", "onnxruntime", "tensorrt"):
    try:
        m = importlib.import_module(name)
        extra = ""
        if name == "torch":
            extra = f" cuda={m.cuda.is_available()}" + (f" {m.cuda.get_device_name(0)}" if m.cuda.is_available() else "")
        if name == "onnxruntime":
            extra = " " + ",".join(m.get_available_providers())
        print(f"{name} {m.__version__}{extra}")
    except Exception as error:  # report, do not stop
        print(f"{name}: not usable ({type(error).__name__}: {error})")
PY
} 2>&1 | tee -a "$OUT/summary.txt"

log "export + parity with PyTorch on $SCENES scenes"
$PY -m vlm_ros.cli export "${MODEL[@]}" --parity "$SCENES" 2>&1 | grep -v "it/s\]$" | tail -8 | tee -a "$OUT/summary.txt"

BACKENDS="torch:cpu,onnxruntime:cpu"
if $PY -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  BACKENDS="$BACKENDS,torch-fp32:cuda,torch-fp16:cuda"
else log "torch has no CUDA: torch CUDA fp32/fp16 skipped"; fi
if $PY -c "import onnxruntime as o,sys; sys.exit(0 if 'CUDAExecutionProvider' in o.get_available_providers() else 1)"; then
  BACKENDS="$BACKENDS,onnxruntime:cuda"
else log "onnxruntime has no CUDAExecutionProvider (pip install onnxruntime-gpu): ONNX Runtime CUDA skipped"; fi

log "TensorRT engines (fp16, then fp32)"
if $PY -m vlm_ros.cli build-engine "${MODEL[@]}" --fp16 2>&1 | tee -a "$OUT/summary.txt" | grep -q "engines in"; then
  $PY -m vlm_ros.cli build-engine "${MODEL[@]}" 2>&1 | tail -2 | tee -a "$OUT/summary.txt"
  BACKENDS="$BACKENDS,tensorrt:cuda"
  log "TensorRT tests (build, run, compare with ONNX Runtime)"
  $PY -m pytest tests/test_engines_tensorrt.py -q -rs 2>&1 | tail -5 | tee -a "$OUT/summary.txt"
fi

log "latency: $BACKENDS on $SCENES scenes"
$PY -m vlm_ros.cli bench-latency "${MODEL[@]}" --backends "$BACKENDS" --scenes "$SCENES" \
  --json "$OUT/latency.json" 2>&1 | grep -v "it/s\]$" | tee -a "$OUT/summary.txt"
echo
echo "done: $OUT/summary.txt and $OUT/latency.json (paste the table into docs/ENGINES.md)"
