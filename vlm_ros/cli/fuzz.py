"""`vlm-ros fuzz`: the hostile-input suite against a real grounding_node, plus fuzzed model outputs.

Prints inputs tried, node deaths, wrong statuses and unanswered requests; exit status 1 when
any of them is found. Set ROS_DOMAIN_ID (and ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) first:
it starts its own node and talks to it over DDS.
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from vlm_ros.qa.hostile_cases import CASES, SHORT
    from vlm_ros.qa.model_outputs import fuzz_model_outputs
    from vlm_ros.qa.suite import run_suite

    findings = 0
    if args.outputs:
        outputs = fuzz_model_outputs(args.outputs, seed=args.seed)
        print(f"model outputs: {outputs.tried} fuzzed through GroundingPipeline, statuses {dict(outputs.statuses)}, "
              f"unsafe OK plans: {len(outputs.unsafe_ok)}, escaped exceptions: {len(outputs.escaped)} "
              f"({outputs.seconds:.1f} s)")
        for line in (outputs.unsafe_ok + outputs.escaped)[:20]:
            print("  FINDING", line)
        findings += len(outputs.unsafe_ok) + len(outputs.escaped)
    cases = SHORT if args.short else CASES
    if args.only:
        cases = [c for c in cases if args.only.lower() in (c.name + " " + c.category).lower()]

    def show(case, outcome, seconds) -> None:
        mark = "  " if outcome.status == case.expect and not outcome.problem else "!!"
        print(f"{mark} {case.category:14s} {case.name:48s} expect {case.expect:8s} got {outcome.status:10s} "
              f"{seconds:5.1f} s  {outcome.problem or outcome.message[:70]}", flush=True)

    report = run_suite(cases, namespace=args.namespace, answer_timeout=args.answer_timeout, log_path=args.node_log,
                       on_result=show if args.verbose else None)
    print(report.summary())
    for title, items in (("node deaths after", report.deaths), ("wrong statuses", report.wrong),
                         ("unanswered", report.unanswered)):
        for item in items:
            print(f"  {title}: {item}")
    findings += report.findings
    return 1 if findings else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fuzz", help="hostile inputs against a real grounding_node",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the short form `make test` runs")
    parser.add_argument("--only", default="", help="run only cases whose name or class contains this text")
    parser.add_argument("--outputs", type=int, default=10_000,
                        help="fuzzed model outputs fed through the pipeline first (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--namespace", default="/vlm_ros_fuzz", help="namespace of the node under test")
    parser.add_argument("--answer-timeout", type=float, default=15.0,
                        help="seconds a request may wait before it counts as unanswered")
    parser.add_argument("--node-log", default=None, help="file for the node's output (default: discarded)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    parser.set_defaults(func=run)
