"""`vlm-ros node`: run grounding_node (same as the console script), with ROS arguments."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from vlm_ros.ros.grounding_node import main

    main(["grounding_node", *args.ros_args])
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("node", help="run the grounding node",
                                   description="Run grounding_node. Pass ROS arguments after --ros-args, e.g. "
                                               "vlm-ros node --ros-args --params-file config/grounding.yaml")
    parser.add_argument("ros_args", nargs=argparse.REMAINDER, help="--ros-args ... (remaps, parameters)")
    parser.set_defaults(func=run)
