"""`vlm-ros node`: run grounding_node (same as the console script), with ROS arguments."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from vlm_ros.ros.grounding_node import main

    ros_args = ["--ros-args", *args.ros_args] if args.ros_args is not None else []
    main(["grounding_node", *ros_args])
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("node", help="run the grounding node",
                                   description="Run grounding_node. Pass ROS arguments after --ros-args, e.g. "
                                               "vlm-ros node --ros-args --params-file config/grounding.yaml "
                                               "-p backend:=oracle -r __ns:=/robot")
    # an optional with REMAINDER takes everything after it, dashes included; a positional REMAINDER
    # after a subparser does not, which made `vlm-ros node --ros-args -p ...` fail to parse
    parser.add_argument("--ros-args", dest="ros_args", nargs=argparse.REMAINDER, default=None,
                        metavar="ARG", help="ROS arguments (remaps, -p name:=value, --params-file FILE)")
    parser.set_defaults(func=run)
