"""Can the shipped model find objects again after execution? (why verification measures by colour and depth)

    .venv/bin/python tools/probe_model_after_execution.py --seeds 6

Executes the oracle plan of each scene (no faults), then grounds "put the {pick} in/on the {place}" on the
frame after execution, with the model's presence check on and off, and prints how far its pick and place
points land from the true objects.
"""

from __future__ import annotations

import argparse

import numpy as np

from vlm_ros.grounding.factory import make_grounder
from vlm_ros.grounding.pipeline import GroundingPipeline
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=300000)
    parser.add_argument("--backend", default="onnxruntime")
    args = parser.parse_args()
    grounder = make_grounder(args.backend)
    with TabletopSim() as sim:
        executor, pipeline = Executor(sim), GroundingPipeline(grounder, sim.camera_to_base)
        for task in ("put-block-in-bowl", "stack-blocks"):
            refused = 0
            for seed in range(args.seed, args.seed + args.seeds):
                episode = TASKS[task].sample(sim, seed)
                executor.execute(oracle_plan(sim, episode)[1])
                obj, target = sim.object_by_body(episode.pick_ids[0]), sim.object_by_body(episode.place_id)
                relation = "in" if episode.place.endswith("bowl") else "on"
                frame, out = sim.render(), []
                for threshold in (grounder.presence_threshold, 0.0):
                    saved, grounder.presence_threshold = grounder.presence_threshold, threshold
                    plan = pipeline.run(frame, f"put the {episode.pick} {relation} the {episode.place}")
                    grounder.presence_threshold = saved
                    if not plan.ok:
                        refused += threshold > 0
                        out.append(f"presence {threshold:.2f}: {plan.status.value} {plan.message}")
                        continue
                    pick = np.hypot(*(plan.steps[0].position[:2] - obj.position()[:2]))
                    place = np.hypot(*(plan.steps[1].position[:2] - target.position()[:2]))
                    out.append(f"presence {threshold:.2f}: pick {pick * 100:.1f} cm, place {place * 100:.1f} cm off")
                print(f"{task} {seed}: " + " | ".join(out))
            print(f"{task}: refused with the presence check on in {refused}/{args.seeds} scenes")


if __name__ == "__main__":
    main()
