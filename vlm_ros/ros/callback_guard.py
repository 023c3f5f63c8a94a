"""Callbacks that cannot kill their node.

rclpy re-raises an exception escaping a subscription or timer callback out of
`executor.spin()`, which ends the process. Every callback the grounding node registers is
wrapped here, so a bug costs one message (logged, counted), never the node.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class CallbackGuard:
    def __init__(self, logger: Any):
        self.logger = logger
        self.failures = 0

    def wrap(self, what: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as error:  # the point of this wrapper
                self.failures += 1
                self.logger.error(f"{what} failed (message dropped, node continues): {error!r}")
                return None

        return guarded
