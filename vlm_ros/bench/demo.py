"""`make demo`: the simulated robot carrying out typed instructions with the default model.

Each scenario resets the sim to a task scene, sends the task's instruction through the
grounding node's `execute` action, prints the plan with its 3D targets, latency and the
outcome, and saves before/after/debug images. Success means the sim's own task check passed.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vlm_ros.bench.client import GraphClient, Outcome, stamp_of
from vlm_ros.ros.msg_conversion import time_ns


@dataclass(frozen=True)
class Scenario:
    task: str
    seed: int
    template: str = ""  # empty: the task's own phrasing


SCENARIOS = (  # fixed scenes, so the demo shows the same thing on every machine; the bench gives the rates
    Scenario("put-block-in-bowl", 900001),
    Scenario("stack-blocks", 900011),
    Scenario("place-at-location", 900031),
    Scenario("put-all-color-in-bowl", 900021),
    Scenario("refuse-missing", 900041),
)

def save(path: Path, rgb: np.ndarray | None) -> str:
    if rgb is None:
        return "(no image)"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return str(path)


def describe(index: int, total: int, scenario: Scenario, outcome: Outcome, check: tuple[bool, str]) -> str:
    plan = outcome.plan
    lines = [f"[{index}/{total}] {scenario.task} (seed {scenario.seed}): {outcome.instruction!r}",
             f"  plan {plan.status.value} in {plan.latency_ms.get('total', float('nan')):.1f} ms "
             f"({plan.model_id}): {plan.message}",
             f"  model said: {plan.raw_output}"]
    lines += [f"    {i}. {step.describe()}" for i, step in enumerate(plan.steps, start=1)]
    done = sum(r.success for r in outcome.step_results)
    lines.append(f"  executed: {'success' if outcome.success else 'failed'} ({done}/{len(plan.steps)} steps) — "
                 f"{outcome.message}")
    lines.append(f"  task check: {'SUCCESS' if check[0] else 'FAILED'} — {check[1]}")
    return "\n".join(lines)


def run_demo(client: GraphClient, out_dir: Path, scenarios: tuple[Scenario, ...] = SCENARIOS) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for index, scenario in enumerate(scenarios, start=1):
        scene = client.reset_scene(scenario.task, scenario.seed, scenario.template)
        before = client.frame("image", after_ns=time_ns(scene.stamp) - 1)
        outcome = client.say(scene.instruction, not_before=stamp_of(scene))
        debug = client.frame("debug_image", after_ns=time_ns(scene.stamp) - 1)
        check = client.check_task()
        time.sleep(0.1)
        after = client.frame("image", after_ns=client.latest_stamp_ns("image"))
        print(describe(index, len(scenarios), scenario, outcome, check))
        stem = out_dir / f"{index:02d}-{scenario.task}"
        print(f"  images: {save(stem.with_name(stem.name + '-before.png'), before)}, "
              f"{save(stem.with_name(stem.name + '-after.png'), after)}, "
              f"{save(stem.with_name(stem.name + '-debug.png'), debug)}\n")
        failures += not check[0]
    print(f"{len(scenarios) - failures}/{len(scenarios)} instructions carried out; images in {out_dir}/")
    return 0 if failures == 0 else 1


def main(out_dir: str = "out/demo", backend: str = "auto", verbose: bool = False) -> int:
    from vlm_ros.bench.graph import sim_graph

    print("starting the simulated cell (sim_bridge + grounding_node) ...", file=sys.stderr)
    with sim_graph(backend=backend, echo=verbose, watch_images=True) as client:
        return run_demo(client, Path(out_dir))
