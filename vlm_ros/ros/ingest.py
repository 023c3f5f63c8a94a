"""Camera subscription callbacks: refuse frames by size before anything is decoded, keep the rest lazily.

Colour and depth Images arrive serialized (`raw=True` subscriptions) and are cached as
LazyMessages: ingest costs one copy of the bytes and a 12-byte stamp read. A frame larger
than `max_image_bytes`, or a CompressedImage whose header says it would decode to more
(a decompression bomb), is dropped on arrival and remembered, so the request that would
have used it gets an ERROR saying why instead of a silently older frame.
"""

from __future__ import annotations

import threading
from typing import Any

from sensor_msgs.msg import Image

from vlm_ros.core.errors import InputError
from vlm_ros.ros.frame_cache import FrameCache, RawFrame, stamp_ns
from vlm_ros.ros.image_probe import compressed_size
from vlm_ros.ros.lazy_message import LazyMessage, cdr_stamp_ns


class Ingest:
    def __init__(self, cache: FrameCache, max_image_bytes: int, logger: Any):
        self.cache = cache
        self.max_bytes = int(max_image_bytes)
        self.logger = logger
        self.refused = {"image": 0, "depth": 0}
        self._last_refusal: tuple[int, str] | None = None  # (stamp [ns], sentence)
        self._lock = threading.Lock()

    # --- callbacks ---------------------------------------------------------------------------------------
    def image(self, data: bytes) -> None:
        if not self._refuse("image", len(data), data):
            self.cache.add_image(LazyMessage(data, Image))

    def depth(self, data: bytes) -> None:
        if not self._refuse("depth", len(data), data):
            self.cache.add_depth(LazyMessage(data, Image))

    def compressed(self, msg: Any) -> None:
        size = compressed_size(msg.data)
        decoded = size[0] * size[1] * 3 if size is not None else 0
        if not self._refuse("image", decoded, None, stamp_ns(msg), what="would decode to"):
            self.cache.add_image(msg)

    # --- refusals ----------------------------------------------------------------------------------------
    def _refuse(self, kind: str, nbytes: int, data: bytes | None, stamp: int | None = None,
                what: str = "is") -> bool:
        if nbytes <= self.max_bytes:
            return False
        stamp = stamp if stamp is not None else (cdr_stamp_ns(data) if data is not None else None) or 0
        text = (f"The newest {kind} was refused: it {what} {nbytes} bytes, over max_image_bytes "
                f"({self.max_bytes}).")
        with self._lock:
            self.refused[kind] += 1
            self._last_refusal = (stamp, text)
        self.logger.warning(text, throttle_duration_sec=5.0)
        return True

    def check(self, raw: RawFrame | None) -> None:
        """Raise InputError when a frame newer than `raw` was refused: the caller would ground on an old one."""
        with self._lock:
            refusal = self._last_refusal
        if refusal is not None and (raw is None or refusal[0] > stamp_ns(raw.image)):
            raise InputError(refusal[1])
