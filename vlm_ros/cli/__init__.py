"""`vlm-ros`: one command, one module per subcommand.

Each module in SUBCOMMANDS defines `register(subparsers)`, which adds its parser and
sets `func(args) -> int`. Modules are imported only when the CLI starts, and heavy
imports (torch, rclpy, pybullet) stay inside each `func`, so `vlm-ros --help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from vlm_ros.ros.dds_profile import use_large_data_profile

# Only subcommands that work are listed; a module is added here when it lands.
SUBCOMMANDS: list[str] = [
    "node",
    "launch",
    "ground",
    "bench",
    "demo",
    "say",
    "listen",
    "train",
    "eval-grounding",
    "export",
    "build-engine",
    "bench-latency",
    "record",
    "replay",
    "soak",
    "fuzz",
    "serve",
    "bench-serve",
    "dds-profile",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vlm-ros", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"vlm_ros.cli.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    use_large_data_profile()  # every ROS process a command starts gets camera frames whole
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
