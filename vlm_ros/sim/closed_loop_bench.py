"""The closed loop in process: sim + faulty executor + grounder + verifier, scored by the task check.

    .venv/bin/python -m vlm_ros.sim.closed_loop_bench --task put-block-in-bowl --episodes 50 \\
        --faults slip=0.2,place_noise=0.01 --max-attempts 3

Per episode and attempt it records whether the verifier's verdict agrees with the sim's own
success check on the same scene, so the verifier's accuracy comes out of the same run as the
success rates. The ROS-graph bench (`vlm-ros bench --faults ... --max-attempts ...`) runs the
same loop inside the grounding node; this one skips DDS and image transport, for tests and
for quick tuning.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field

from vlm_ros.core.types import Plan
from vlm_ros.geometry.projection import Projector
from vlm_ros.grounding.base import Grounder
from vlm_ros.grounding.closed_loop import ClosedLoop, Execution
from vlm_ros.grounding.pipeline import GroundingPipeline
from vlm_ros.grounding.verification import Tolerances, Verifier
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.faults import FaultConfig, FaultInjector
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS


@dataclass
class EpisodeRecord:
    seed: int
    instruction: str
    success: bool  # the sim's check at the end
    attempts: int
    verified: bool | None  # the last check's verdict; None when nothing was checked
    checks: list[tuple[bool, bool]] = field(default_factory=list)  # per attempt: (verifier says, sim says)
    faults: list[str] = field(default_factory=list)
    message: str = ""


class InProcessCell:
    """A sim, its faulty executor and a grounding pipeline, wired into a ClosedLoop."""

    def __init__(self, grounder: Grounder | None, faults: FaultConfig, width: int = 640, height: int = 480,
                 tolerances: Tolerances | None = None):
        """grounder None: plans from the simulator's ground truth (oracle_plan), to measure the verifier alone."""
        self.sim = TabletopSim(width=width, height=height)
        self.faults = FaultInjector(faults)
        self.executor = Executor(self.sim, faults=self.faults)
        self.pipeline = GroundingPipeline(grounder, self.sim.camera_to_base) if grounder is not None else None
        self.verifier = Verifier(grounder, Projector(self.sim.camera_to_base), tolerances)
        self.episode = None
        self.plans: list[Plan] = []  # every plan executed in the current episode
        self.checks: list[tuple[bool, bool]] = []

    def ground(self, instruction: str, _not_before_ns: int) -> Plan:
        frame = self.sim.render()  # rendered either way, as a camera would
        if self.pipeline is None:
            return oracle_plan(self.sim, self.episode)[1]
        return self.pipeline.run(frame, instruction)

    def execute(self, plan: Plan, _attempt: int) -> Execution:
        self.plans.append(plan)
        outcome = self.executor.execute(plan)
        return Execution(outcome.success, outcome.message, outcome.results, self.sim.time_ns())

    def observe(self, _not_before_ns: int):
        return self.sim.render()

    def run_episode(self, task: str, seed: int, max_attempts: int, verify: bool = True) -> EpisodeRecord:
        self.episode = TASKS[task].sample(self.sim, seed)
        self.faults.reset(seed)
        self.plans, self.checks = [], []
        sim_check = TASKS[task]

        def on_event(stage, _attempt, _detail, verification) -> None:
            if stage == "verified" and verification is not None and verification.checked:
                sim_says = sim_check.check(self.sim, self.episode, self.plans[0].status)[0]
                self.checks.append((verification.verified, sim_says))

        loop = ClosedLoop(self.ground, self.execute, self.observe, self.verifier if verify else None,
                          max_attempts, on_event)
        result = loop.run(self.episode.instruction)
        success, reason = sim_check.check(self.sim, self.episode, result.plan.status)
        verification = result.verification
        return EpisodeRecord(seed, self.episode.instruction, success, len(result.attempts),
                             verification.verified if verification and verification.checked else None,
                             list(self.checks), list(self.faults.log), f"{result.message} | sim: {reason}")

    def close(self) -> None:
        self.sim.close()


def summarize(records: list[EpisodeRecord]) -> dict:
    checks = [c for r in records for c in r.checks]
    agree = sum(v == s for v, s in checks)
    return {
        "episodes": len(records),
        "success_rate": round(sum(r.success for r in records) / max(1, len(records)), 4),
        "checks": len(checks), "agreement": round(agree / max(1, len(checks)), 4),
        "verifier_false_success": sum(v and not s for v, s in checks),  # said success, sim says failure
        "verifier_false_failure": sum(s and not v for v, s in checks),
        "mean_attempts": round(sum(r.attempts for r in records) / max(1, len(records)), 3),
    }


def main(argv: list[str] | None = None) -> None:
    from vlm_ros.grounding.factory import make_grounder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="put-block-in-bowl")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=300000)
    parser.add_argument("--faults", default="slip=0.2,place_noise=0.01")
    parser.add_argument("--max-attempts", type=int, default=3)
    parser.add_argument("--backend", default="auto", help="model backend, or oracle (ground-truth plans)")
    parser.add_argument("--tasks", nargs="*", help="several tasks, --episodes each (overrides --task)")
    parser.add_argument("--json", help="write records and summary here")
    args = parser.parse_args(argv)
    grounder = None if args.backend == "oracle" else make_grounder(args.backend)
    cell = InProcessCell(grounder, FaultConfig.parse(args.faults))
    report = {"grounder": args.backend, "faults": args.faults, "max_attempts": args.max_attempts, "tasks": {}}
    try:
        for task in args.tasks or [args.task]:
            records, start = [], time.perf_counter()
            for seed in range(args.seed, args.seed + args.episodes):
                record = cell.run_episode(task, seed, args.max_attempts)
                records.append(record)
                report["tasks"][task] = {"summary": summarize(records), "records": [asdict(r) for r in records]}
                if args.json:  # after every episode, so a run cut short still leaves its data
                    with open(args.json, "w") as f:
                        json.dump(report, f, indent=1)
                if any(v != s for v, s in record.checks) or not record.success:
                    print(f"{task} seed {seed}: success={record.success} checks={record.checks} "
                          f"faults={record.faults} {record.message}", flush=True)
            summary = summarize(records) | {
                "s_per_episode": round((time.perf_counter() - start) / max(1, len(records)), 3)}
            print(task, json.dumps(summary), flush=True)
            report["tasks"][task] = {"summary": summary, "records": [asdict(r) for r in records]}
    finally:
        cell.close()
    every = [EpisodeRecord(**r) for t in report["tasks"].values() for r in t["records"]]
    report["summary"] = summarize(every)
    print("all", json.dumps(report["summary"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
