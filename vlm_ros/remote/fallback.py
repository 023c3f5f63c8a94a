"""Remote first, local when the remote fails: a robot keeps grounding while the GPU box is down.

The fallback grounder is loaded at start (seconds for ONNX Runtime), so the first failure costs
one failed call, not a model load. The plan's message and /diagnostics say when it answered.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from vlm_ros.core.errors import BackendError, ModelOutputError
from vlm_ros.grounding.base import Grounder, GroundingResult

log = logging.getLogger(__name__)


class FallbackGrounder:
    """Implements vlm_ros.grounding.base.Grounder: `primary`, else `fallback` on a backend failure
    or an unreadable reply. A refusal is an answer, not a failure: it is not retried locally."""

    def __init__(self, primary: Grounder, fallback: Grounder, fallback_name: str):
        self.primary, self.fallback, self.fallback_name = primary, fallback, fallback_name
        self.model_id = primary.model_id
        self.fallbacks = 0
        self.last_remote_error = ""
        self._lock = threading.Lock()

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        try:
            return self.primary.ground(rgb, instruction)
        except (BackendError, ModelOutputError) as error:
            reason = str(error)
        with self._lock:
            self.fallbacks += 1
            self.last_remote_error = reason
        log.warning("remote grounding failed, using %s: %s", self.fallback_name, reason)
        result = self.fallback.ground(rgb, instruction)
        result.note = f"grounded locally by the fallback backend {self.fallback_name} " \
                      f"({self.fallback.model_id}) because the remote failed: {reason}"
        return result

    def diagnostics(self) -> dict[str, str]:
        values = dict(getattr(self.primary, "diagnostics", dict)())
        values.update(fallback_backend=self.fallback_name, fallbacks=str(self.fallbacks),
                      last_remote_error=self.last_remote_error)
        return values
