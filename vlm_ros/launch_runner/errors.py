"""Errors of the launch runner: each names the launch file and the offending key."""

from __future__ import annotations

from vlm_ros.core.errors import VlmRosError


class LaunchError(VlmRosError):
    """A launch file cannot be run: bad YAML, an unknown key, a missing argument or executable."""
