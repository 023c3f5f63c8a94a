#!/usr/bin/env bash
# The benchmark runs behind the README's tables: the default model (torch backend, then onnxruntime) and the
# oracle through the ROS graph, in-distribution and with phrasings the model never saw. Writes docs/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-61}
EPISODES=${EPISODES:-100}
HELDOUT_EPISODES=${HELDOUT_EPISODES:-100}
ORACLE=${ORACLE:-1}  # ORACLE=0: keep docs/bench/oracle.json (the oracle does not depend on the model)
PY=.venv/bin/python
if [ "$ORACLE" = 1 ]; then
  $PY -m vlm_ros.cli bench --grounder oracle --task all --episodes "$EPISODES" --seed 100000 --json docs/bench/oracle.json
fi
$PY -m vlm_ros.cli bench --grounder model --backend torch --task all --episodes "$EPISODES" --seed 300000 \
  --json docs/bench/model.json
for task in put-block-in-bowl stack-blocks put-all-color-in-bowl place-at-location; do
  $PY -m vlm_ros.cli bench --grounder model --backend torch --task "$task" --episodes "$HELDOUT_EPISODES" \
    --seed 300000 --templates "vlm_ros/training/templates/heldout/$task.txt" --json "docs/bench/model-heldout-$task.json"
done
$PY -m vlm_ros.cli bench --grounder model --backend onnxruntime --task all --episodes "$EPISODES" --seed 300000 \
  --json docs/bench/model-onnxruntime.json
$PY -m vlm_ros.bench.plot docs/bench/model.json --out docs/bench/model.png
$PY -m vlm_ros.bench.plot docs/bench/oracle.json --out docs/bench/oracle.png
