"""`vlm-ros bench`: success rate and latency of full sim episodes through the ROS graph."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

GROUNDERS = {"model": "auto", "oracle": "oracle"}  # --grounder → grounding_node backend


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from vlm_ros.bench.closed_loop import agreement, remove, write_params
    from vlm_ros.bench.graph import sim_graph
    from vlm_ros.bench.runner import load_templates, run_bench
    from vlm_ros.sim.faults import FaultConfig
    from vlm_ros.sim.tasks import TASKS

    tasks = list(TASKS) if args.task == "all" else [t.strip() for t in args.task.split(",") if t.strip()]
    templates = load_templates(args.templates)
    backend = args.backend or GROUNDERS[args.grounder]
    reports = []
    faults = FaultConfig.parse(args.faults or "")
    params = write_params(faults, args.verify, args.max_attempts, args.frame_wait_s)
    model_args = {name: str(value) for name, value in (("oracle_format", args.oracle_format), ("model_family",
                  args.model_family), ("device", args.device), ("dtype", args.dtype)) if value}
    with sim_graph(backend=backend, task=tasks[0], seed=args.seed, model_path=args.model or "",
                   echo=args.verbose, closed_loop_params=params, model_args=model_args,
                   rate_hz=args.rate_hz) as client:
        for task in tasks:
            name = f"{args.grounder} ({args.oracle_format} format)" if args.oracle_format else args.grounder
            report = run_bench(client, task, args.episodes, args.seed, name, templates)
            report.templates = args.templates
            report.closed_loop = {"faults": faults.to_text(), "verify": args.verify,
                                  "max_attempts": args.max_attempts, **agreement(report.results),
                                  "mean_attempts": round(float(np.mean([r.attempts for r in report.results])), 3)}
            reports.append(report)
            print(f"{task}: closed loop {report.closed_loop}", file=sys.stderr)
            print(f"{task}: success {report.success_rate:.1%} over {report.episodes} episodes, "
                  f"instruction→plan p50 {report.latency_ms['p50']:.1f} ms p95 {report.latency_ms['p95']:.1f} ms, "
                  f"episode p50 {report.episode_wall_s['p50']:.2f} s", file=sys.stderr)
            for failure in [r for r in report.results if not r.success][:5]:
                print(f"  seed {failure.seed}: {failure.instruction!r}: {failure.reason}", file=sys.stderr)
            if args.json:  # after every task, so a long multi-task run keeps what it finished
                write_reports(Path(args.json), reports, several=len(tasks) > 1)
    remove(params)
    return 0


def write_reports(path: Path, reports: list, several: bool) -> None:
    payload = {"tasks": [r.to_json() for r in reports]} if several else reports[0].to_json()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="run sim episodes through the ROS graph and score them",
        description="Launches sim_bridge + grounding_node (launch/sim_demo.launch.yaml), then per episode: "
                    "reset_scene → execute action → execute_plan in the sim → check_task.")
    parser.add_argument("--task", default="put-block-in-bowl",
                        help="put-block-in-bowl, stack-blocks, put-all-color-in-bowl, place-at-location, "
                             "refuse-missing, several joined by commas, or all")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=100000, help="seed of the first episode (then +1 each)")
    parser.add_argument("--grounder", choices=sorted(GROUNDERS), default="model",
                        help="model: the grounding model; oracle: simulator ground truth (measures the rest)")
    parser.add_argument("--backend", help="model backend override (torch, onnxruntime, tensorrt, transformers); "
                                          "default auto")
    parser.add_argument("--model", "--model-path", dest="model",
                        help="model directory (default: shipped tabletop-tiny; a Hugging Face VLM checkpoint too)")
    parser.add_argument("--model-family", help="VLM family of --model (default: from its config.json)")
    parser.add_argument("--device", help="cpu or cuda (default cpu)")
    parser.add_argument("--dtype", help="transformers backend dtype: float32, bfloat16, float16")
    parser.add_argument("--rate-hz", type=float, default=5.0, help="sim camera rate (Hz); rendering is most of "
                                                                    "an idle sim's CPU")
    parser.add_argument("--frame-wait-s", type=float, help="how long the node waits for a fresh camera frame (s, "
                                                           "default 10); raise it on a heavily loaded machine")
    parser.add_argument("--oracle-format", help="with --grounder oracle: answer in this VLM family's syntax and "
                                                "frame, read back by its parser (vlm_ros.families.FAMILIES)")
    parser.add_argument("--templates", help="file of instruction templates, one per line, with {pick} {place} "
                                            "{pick_color} {place_color}")
    parser.add_argument("--faults", default="", help="injected faults, e.g. slip=0.2,place_noise=0.01,nudge=0.1,"
                                                     "miss_pick=0.05 (see vlm_ros.sim.faults); default none")
    parser.add_argument("--max-attempts", type=int, default=1, help="grounding_node max_attempts (re-plans)")
    parser.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                        help="grounding_node verify: look again after execution (default on)")
    parser.add_argument("--frame-wait-s", type=float, help="grounding_node frame_wait_s (raise it on a loaded "
                                                           "machine, where frames arrive late)")
    parser.add_argument("--json", help="write the report here")
    parser.add_argument("--verbose", action="store_true", help="show the nodes' output")
    parser.set_defaults(func=run)
