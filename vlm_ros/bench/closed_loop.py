"""Bench settings for the closed loop: injected faults, verification and attempts as one parameter file.

`vlm-ros bench --faults slip=0.2,place_noise=0.01 --max-attempts 3` writes it and launches the cell
with it (launch arg closed_loop_params), so both nodes get their share: fault_* for sim_bridge,
verify / max_attempts for grounding_node.
"""

from __future__ import annotations

import tempfile
from dataclasses import fields
from pathlib import Path

import yaml

from vlm_ros.sim.faults import FaultConfig


def write_params(faults: FaultConfig, verify: bool, max_attempts: int, frame_wait_s: float | None = None,
                 directory: str | None = None) -> str:
    """Path of a new parameter file for both nodes of the sim cell.

    frame_wait_s: the grounding node's wait for a new camera frame; on a machine loaded so much that
    best-effort 640x480 frames miss the default 10 s, a bench raises it rather than count ERROR plans."""
    grounding: dict = {"verify": bool(verify), "max_attempts": int(max_attempts)}
    if frame_wait_s is not None:
        grounding["frame_wait_s"] = float(frame_wait_s)
    payload = {
        "/**/sim_bridge": {"ros__parameters": {f"fault_{f.name}": getattr(faults, f.name) for f in fields(faults)}},
        "/**/grounding_node": {"ros__parameters": grounding},
    }
    with tempfile.NamedTemporaryFile("w", suffix="-closed-loop.yaml", prefix="vlm-ros-", dir=directory,
                                     delete=False) as handle:
        yaml.safe_dump(payload, handle)
    return handle.name


def agreement(results: list) -> dict[str, float | int]:
    """How often the node's verification verdict matched the sim's check, over episodes it checked."""
    checked = [r for r in results if r.verified is not None]
    agree = sum(r.verified == r.success for r in checked)
    return {"checked": len(checked), "agreement": round(agree / len(checked), 4) if checked else float("nan"),
            "said_success_sim_failed": sum(r.verified and not r.success for r in checked),
            "said_failure_sim_succeeded": sum(r.success and not r.verified for r in checked)}


def remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)
