"""Request admission for the grounding node: a bounded queue in front of one grounding worker.

Grounding is serial (one model, one frame cache), so requests queue. The queue is bounded
(`max_pending_requests`): a request beyond it gets an immediate "busy" answer instead of
waiting behind a backlog nobody can see. The instruction topic has no caller to answer, so
it is rate-limited and may hold only a small share of the queue: a flood of topic messages
can never starve the `ground` service or the `execute` action. No rclpy here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

BUSY_MESSAGE = ("The grounding node is busy: {pending} requests are already waiting "
                "(max_pending_requests = {limit}). Try again shortly.")


class RequestGate:
    """At most `max_pending` jobs queued or running, run one at a time on a worker thread.

    `source_limits` caps what one source may hold of that total (e.g. {"topic": 1}).
    """

    def __init__(self, max_pending: int, source_limits: dict[str, int] | None = None, name: str = "grounding"):
        self.max_pending = max(1, int(max_pending))
        self.source_limits = dict(source_limits or {})
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.rejected: dict[str, int] = {}  # per source, for diagnostics

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(self._pending.values())

    def busy_message(self) -> str:
        return BUSY_MESSAGE.format(pending=self.pending, limit=self.max_pending)

    def submit(self, fn: Callable[..., Any], *args: Any, source: str = "service") -> Future | None:
        """Queue fn(*args); None (nothing queued) when the queue or the source's share is full."""
        with self._lock:
            total = sum(self._pending.values())
            mine = self._pending.get(source, 0)
            limit = self.source_limits.get(source, self.max_pending)
            if total >= self.max_pending or mine >= limit:
                self.rejected[source] = self.rejected.get(source, 0) + 1
                return None
            self._pending[source] = mine + 1
        try:
            future = self._pool.submit(fn, *args)
        except RuntimeError:  # shut down
            self._release(source)
            return None
        future.add_done_callback(lambda _f: self._release(source))
        return future

    def _release(self, source: str) -> None:
        with self._lock:
            self._pending[source] = max(0, self._pending.get(source, 0) - 1)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RateLimiter:
    """At most `rate_hz` events per second (one token, refilled every 1/rate_hz s); 0 disables."""

    def __init__(self, rate_hz: float, clock: Callable[[], float] = time.monotonic):
        self.period_s = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()
        self.dropped = 0

    def allow(self) -> bool:
        if self.period_s == 0.0:
            return True
        with self._lock:
            now = self._clock()
            if now < self._next:
                self.dropped += 1
                return False
            self._next = now + self.period_s
            return True
