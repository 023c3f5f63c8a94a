"""`vlm-ros dds-profile`: print the Fast DDS large-data profile, for processes vlm_ros does not start.

vlm_ros's own nodes and commands use it by themselves; a camera driver publishing to them needs
it too (the sender's shared-memory segment decides whether a frame fits):
`export FASTDDS_DEFAULT_PROFILES_FILE=$(vlm-ros dds-profile)` before starting the driver.
"""

from __future__ import annotations

import argparse


def run(_args: argparse.Namespace) -> int:
    from vlm_ros.ros.dds_profile import PROFILE_PATH

    print(PROFILE_PATH)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dds-profile", help="print the path of the Fast DDS large-data profile",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=run)
