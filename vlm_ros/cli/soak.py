"""`vlm-ros soak --minutes N`: grounding_node under 30 Hz RGB-D and a request per second; RSS, failures, CPU."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from vlm_ros.bench.soak import run_soak

    report = run_soak(args.minutes, args.width, args.height, args.rate_hz, warmup_s=args.warmup_s,
                      idle_s=args.idle_s, backend=args.backend, node_log=args.node_log,
                      hostile_frames=args.hostile_frames,
                      log=lambda line: print(line, file=sys.stderr, flush=True))
    print(report.summary())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2))
    return 0 if report.failed == 0 and report.node_alive else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "soak", help="soak-test grounding_node: RSS slope, failed requests, idle ingest CPU",
        description="Starts grounding_node as its own process, streams RGB-D to it and sends one ground request "
                    "per second; prints the RSS slope after warm-up (kB/min), failed requests and the node's CPU "
                    "while only the camera streams (% of one core, from /proc).")
    parser.add_argument("--minutes", type=float, default=30.0, help="measured time after warm-up")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--rate-hz", type=float, default=30.0, help="camera rate")
    parser.add_argument("--warmup-s", type=float, default=60.0, help="requests before RSS is sampled")
    parser.add_argument("--idle-s", type=float, default=30.0, help="length of each idle CPU window")
    parser.add_argument("--backend", default="test-fixed",
                        help="grounding_node backend; test-fixed (default) measures the node, not a model")
    parser.add_argument("--hostile-frames", type=int, default=20,
                        help="huge frames and decompression bombs sent after warm-up (0: none)")
    parser.add_argument("--node-log", default="/tmp/vlm_ros_soak_node.log", help="the node's output goes here")
    parser.add_argument("--json", help="write the report (with every RSS sample) here")
    parser.set_defaults(func=run)
