"""Which camera frame a request grounds on: the newest, or the first stamped late enough, with a bounded wait.

Kept out of grounding_node so the wait's rules (what counts as new enough, when waiting cannot
help) live in one place; the node and the closed-loop verifier both ask it for frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vlm_ros.core.errors import InputError
from vlm_ros.grounding.input_checks import check_stamp
from vlm_ros.ros.frame_cache import FrameCache, stamp_ns
from vlm_ros.ros.pulled_topics import PulledTopics


class FrameWait:
    """Frames from the camera readers (pulled on demand) and the cache that pairs colour with depth."""

    def __init__(self, topics: PulledTopics, cache: FrameCache, now_ns: Callable[[], int], params: dict[str, Any]):
        self.topics, self.cache, self.now_ns, self.params = topics, cache, now_ns, params

    def latest(self):
        """Take what the camera readers hold, then the newest pair in the cache."""
        self.topics.drain()
        return self.cache.latest()

    def frame(self, not_before_ns: int, deadline: float | None = None):
        """The latest frame, waiting until `deadline` (monotonic; default frame_wait_s from now) for one new enough.

        New enough means stamped at or after `not_before` when the request names one, and
        within max_frame_age_s of now otherwise: a camera stream that dropped a few frames
        (best-effort QoS on a loaded machine) should delay a plan, not fail it. When nothing
        new enough arrives, the stale frame is returned and the pipeline reports its age.
        The deadline counts from when the request arrived, so time spent queued is not waited twice.
        """
        raw = self.latest()
        max_age_s = self.params["max_frame_age_s"]
        explicit = bool(not_before_ns)
        if not explicit:
            if max_age_s <= 0:
                return raw
            not_before_ns = self.now_ns() - int(max_age_s * 1e9)
        if deadline is None:
            deadline = time.monotonic() + self.params["frame_wait_s"]
        # both halves must be new: an old depth image within the sync slop may show the scene before a change
        while raw is None or raw.depth is None or min(stamp_ns(raw.image), stamp_ns(raw.depth)) < not_before_ns:
            if raw is not None and self.stamps_are_broken(raw):
                return raw  # waiting cannot help: the pipeline's stamp check reports it now, not after frame_wait_s
            if time.monotonic() > deadline:
                if not explicit:
                    return raw
                raise InputError(f"No camera frame stamped at or after {not_before_ns / 1e9:.3f} s arrived "
                                 f"within {self.params['frame_wait_s']:.1f} s.")
            time.sleep(0.01)
            raw = self.latest()
        return raw

    def stamps_are_broken(self, raw) -> bool:
        """The newest image is stamped 0 or beyond max_clock_skew_s ahead: the next frames will be the same.

        The pipeline's own stamp check, without its age limit (age is what waiting can cure).
        """
        try:
            check_stamp(stamp_ns(raw.image), self.now_ns(), 0.0, self.params["max_clock_skew_s"])
        except InputError:
            return True
        return False
