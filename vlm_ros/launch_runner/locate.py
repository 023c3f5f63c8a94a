"""Turn what a user typed after `vlm-ros launch` into a launch file path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from vlm_ros.launch_runner.errors import LaunchError
from vlm_ros.launch_runner.packages import find_package_share

DEFAULT_PACKAGE = "vlm_ros"


def find_launch_file(
    name: str, package: str | None = None, prefixes: Sequence[os.PathLike | str] = ()
) -> Path:
    """A path as given if it exists (and no package is named); else `<share of package>/launch/<name>`.

    `package` defaults to vlm_ros, so `vlm-ros launch grounding.launch.yaml` works like
    `ros2 launch vlm_ros grounding.launch.yaml`.
    """
    if package is None and Path(name).is_file():
        return Path(name)
    share = find_package_share(package or DEFAULT_PACKAGE, prefixes)
    candidate = share / "launch" / name
    if candidate.is_file():
        return candidate
    available = sorted(p.name for p in (share / "launch").glob("*.launch.*")) if (share / "launch").is_dir() else []
    raise LaunchError(
        f"Launch file {name!r} was not found: it is not a file path, nor in {share / 'launch'}"
        + (f" (available: {', '.join(available)})." if available else " (no launch files there).")
    )
