"""grounding_node's parameters (a plain dict) → PipelineConfig and a configured grounder.

Shared by the node and by offline tools (`vlm-ros replay`), so a bag replays under exactly the
settings the node would use.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from vlm_ros.grounding.base import Grounder
from vlm_ros.grounding.pipeline import PipelineConfig
from vlm_ros.grounding.validator import Workspace


def default_params() -> dict[str, Any]:
    from vlm_ros.ros.parameters import GROUNDING_PARAMETERS  # a table of plain data; needs rcl_interfaces

    return {spec.name: spec.default for spec in GROUNDING_PARAMETERS}


def pipeline_config(p: dict[str, Any]) -> PipelineConfig:
    """Every PipelineConfig field named like a parameter takes its value; the workspace from its corners."""
    simple = {f.name: p[f.name] for f in fields(PipelineConfig) if f.name in p}
    return PipelineConfig(
        **simple,
        workspace=Workspace(x_range=(p["workspace_min"][0], p["workspace_max"][0]),
                            y_range=(p["workspace_min"][1], p["workspace_max"][1]),
                            z_range=(p["workspace_min"][2], p["workspace_max"][2]),
                            min_reach=p["min_reach"], max_reach=p["max_reach"]))


def apply_preprocess_mode(grounder: Grounder, mode: str) -> None:
    """Set how frames of another aspect ratio are fitted, on any grounder that fits images.

    Our model keeps it in its processor's config; a family adapter may expose `preprocess_mode`.
    Grounders that take the image as it is (oracle, test-fixed, remote) have neither.
    """
    from vlm_ros.geometry.preprocess import MODES

    if mode not in MODES:
        raise ValueError(f"preprocess_mode must be one of {', '.join(MODES)}, got {mode!r}")
    if hasattr(grounder, "preprocess_mode"):
        grounder.preprocess_mode = mode  # type: ignore[attr-defined]
    config = getattr(getattr(grounder, "processor", None), "config", None)
    if config is not None and hasattr(config, "aspect_mode"):
        config.aspect_mode = mode
