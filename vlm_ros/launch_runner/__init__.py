"""Run ROS 2 YAML launch files where `launch`/`launch_ros` are absent (pip-only ROS 2).

The same file runs under `ros2 launch` on a full ROS install; this supports the subset our
files use (see `description` for entities and `substitutions` for `$(...)`). Start here:
`LaunchSession(path, args)` as a context manager, or `vlm-ros launch FILE name:=value`.
"""

from vlm_ros.launch_runner.description import (
    ArgSpec,
    LaunchPlan,
    NodeSpec,
    declared_arguments,
    load_launch_file,
)
from vlm_ros.launch_runner.errors import LaunchError
from vlm_ros.launch_runner.locate import find_launch_file
from vlm_ros.launch_runner.packages import find_executable, find_package_share
from vlm_ros.launch_runner.session import LaunchSession

__all__ = [
    "ArgSpec",
    "LaunchError",
    "LaunchPlan",
    "LaunchSession",
    "NodeSpec",
    "declared_arguments",
    "find_executable",
    "find_launch_file",
    "find_package_share",
    "load_launch_file",
]
