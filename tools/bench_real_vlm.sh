#!/usr/bin/env bash
# Sim success rates of a real pretrained VLM checkpoint, on a GPU machine.
#
#   tools/bench_real_vlm.sh /models/Qwen2.5-VL-3B-Instruct [episodes] [dtype] [family]
#
# Runs `vlm-ros bench --grounder model --model-path DIR --backend transformers --device cuda` on the
# three pick-and-place tasks and writes docs/bench/real-<checkpoint>-<task>.json. The checkpoint is a
# local directory (download it yourself, e.g. `huggingface-cli download Qwen/Qwen2.5-VL-3B-Instruct
# --local-dir /models/Qwen2.5-VL-3B-Instruct`); nothing is downloaded here.
set -euo pipefail
model=${1:?usage: $0 MODEL_DIR [episodes] [dtype] [family]}
episodes=${2:-100}
dtype=${3:-bfloat16}
family=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
name=$(basename "$model")
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-42}
"$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible to torch')"
for task in put-block-in-bowl stack-blocks place-at-location; do
  "$python" -m vlm_ros.cli bench --grounder model --model-path "$model" --backend transformers --device cuda \
    --dtype "$dtype" ${family:+--model-family "$family"} --task "$task" --episodes "$episodes" \
    --json "$root/docs/bench/real-$name-$task.json"
done
