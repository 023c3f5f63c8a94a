"""Oracle success, speed and render/physics rates per task, in process.

    .venv/bin/python -m vlm_ros.sim.oracle_bench --episodes 100
"""

from __future__ import annotations

import argparse
import time

import pybullet as p

from vlm_ros.sim.executor import Executor
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS


def run_task(sim: TabletopSim, executor: Executor, task: str, episodes: int, seed0: int = 0) -> dict:
    """Sample, oracle-ground, execute and check `episodes` episodes; render once per episode as a grounder would."""
    wins, failures, start = 0, [], time.perf_counter()
    for seed in range(seed0, seed0 + episodes):
        episode = TASKS[task].sample(sim, seed)
        sim.render()
        _, plan = oracle_plan(sim, episode)
        result = executor.execute(plan)
        ok, reason = TASKS[task].check(sim, episode, plan.status)
        wins += ok
        if not ok:
            failures.append((seed, reason, result.message))
    return {"task": task, "success": wins / episodes, "s_per_episode": (time.perf_counter() - start) / episodes,
            "failures": failures[:5]}


def rates(width: int, height: int, frames: int = 30, steps: int = 2000) -> tuple[float, float]:
    """(render ms per frame, physics steps per second) in a typical scene."""
    with TabletopSim(width=width, height=height) as sim:
        sim.reset(0)
        sim.render()
        t = time.perf_counter()
        for _ in range(frames):
            sim.render()
        render_ms = (time.perf_counter() - t) / frames * 1e3
        t = time.perf_counter()
        for _ in range(steps):
            p.stepSimulation(physicsClientId=sim.client)
        return render_ms, steps / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--seed0", type=int, default=0, help="first episode seed")
    args = parser.parse_args()
    with TabletopSim(width=args.width, height=args.height) as sim:
        executor = Executor(sim)
        for task in args.tasks:
            r = run_task(sim, executor, task, args.episodes, args.seed0)
            print(f"{task:24s} success {r['success']:6.1%}  {r['s_per_episode']:.3f} s/episode  {r['failures']}")
    for w, h in ((640, 480), (224, 168), (160, 120)):
        render_ms, hz = rates(w, h)
        print(f"render {w}x{h}: {render_ms:.1f} ms/frame   physics: {hz:,.0f} steps/s")


if __name__ == "__main__":
    main()
