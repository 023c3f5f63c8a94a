"""`vlm-ros say TEXT`: send one instruction to a running graph and print what happened."""

from __future__ import annotations

import argparse
import json
import os


def run(args: argparse.Namespace) -> int:
    import rclpy

    from vlm_ros.bench.client import GraphClient
    from vlm_ros.core.errors import VlmRosError

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    rclpy.init()
    client = GraphClient(args.namespace)
    try:
        client.wait_for_graph(args.timeout, sim=False)
        outcome = client.say(args.instruction, dry_run=args.dry_run, timeout=args.timeout)
    except VlmRosError as error:
        print(f"error: {error}")
        return 1
    finally:
        client.close()
        rclpy.try_shutdown()
    plan = outcome.plan
    if args.json:
        print(json.dumps({"instruction": outcome.instruction, "status": plan.status.value, "message": plan.message,
                          "success": outcome.success, "result": outcome.message, "raw_output": plan.raw_output,
                          "steps": [step.describe() for step in plan.steps],
                          "latency_ms": plan.latency_ms}, indent=2))
    else:
        print(f"{outcome.instruction!r}\n{plan.describe()}\nmodel said: {plan.raw_output}")
        print(f"{'done' if outcome.success else 'not done'}: {outcome.message}")
    return 0 if outcome.success else 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("say", help="send one instruction to a running grounding node",
                                   description=__doc__)
    parser.add_argument("instruction")
    parser.add_argument("--namespace", default="", help="namespace of the grounding node")
    parser.add_argument("--dry-run", action="store_true", help="ground only, do not execute")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)
