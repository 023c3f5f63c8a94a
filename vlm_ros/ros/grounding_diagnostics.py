"""grounding_node's /diagnostics status: model, frames, plans, latency, closed loop and backend counters.

One function of the node's state, so what an operator sees in rqt_robot_monitor is read in one place.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue


def grounding_status(node: Any) -> DiagnosticArray:
    """The node's status now (any lifecycle state: an unconfigured node says why)."""
    status = DiagnosticStatus(name=f"{node.get_name()}: grounding", hardware_id="vlm_ros")
    latencies = np.array(node._latencies) if node._latencies else None
    if node.pipeline is None:
        status.level, status.message = DiagnosticStatus.ERROR, f"not configured: {node.load_error}"
    elif node.cache.received["image"] == 0:
        status.level, status.message = DiagnosticStatus.WARN, "no camera frames received yet"
    else:
        status.level, status.message = DiagnosticStatus.OK, "grounding"
    values = {
        "model_id": node.pipeline.model_id if node.pipeline else "",
        "frames_received": json.dumps(node.cache.received),
        "frames_refused": json.dumps(node.ingest.refused),
        "plans": json.dumps(dict(node._status_counts)),
        "last_message": node._last_message,
        "latency_ms_p50": f"{np.percentile(latencies, 50):.1f}" if latencies is not None else "",
        "latency_ms_p95": f"{np.percentile(latencies, 95):.1f}" if latencies is not None else "",
    }
    execution = getattr(node, "execution", None)  # created on activate: an unconfigured node has none
    if execution is not None:
        values.update(execution.closed_loop.diagnostics())
    if node.pipeline is not None:  # backend-specific counters, e.g. the remote backend's failures
        values.update(getattr(node.pipeline.grounder, "diagnostics", dict)())
    status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
    array = DiagnosticArray(status=[status])
    array.header.stamp = node.get_clock().now().to_msg()
    return array
