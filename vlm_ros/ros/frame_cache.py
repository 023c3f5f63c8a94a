"""Latest synchronised RGB-D frame only: no queue, so grounding never lags the camera.

Messages are kept raw and converted when an instruction arrives, so a malformed image
costs nothing until it is used and then becomes an ERROR plan that names the problem.
The node hands images over still serialized (vlm_ros.ros.lazy_message.LazyMessage): only
the pair a request grounds on is ever deserialized, and only references are kept.
Pairing is approximate-time: the newest colour image with the depth image whose stamp
is closest, if within `slop`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


def stamp_ns(msg: Any) -> int:
    lazy = getattr(msg, "stamp_ns", None)  # a LazyMessage knows its stamp without deserializing
    if isinstance(lazy, int):
        return lazy
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


def _resolved(msg: Any) -> Any:
    """The message itself: deserialized (once) if it is still a LazyMessage."""
    return msg.msg if hasattr(msg, "nbytes") and hasattr(msg, "msg") else msg


@dataclass
class RawFrame:
    image: Any  # sensor_msgs/Image or CompressedImage
    depth: Any | None  # sensor_msgs/Image
    camera_info: Any | None  # sensor_msgs/CameraInfo


class FrameCache:
    def __init__(self, slop_s: float = 0.05, history: int = 4):
        self.slop_ns = int(slop_s * 1e9)
        self._images: deque[Any] = deque(maxlen=history)
        self._depths: deque[Any] = deque(maxlen=history)
        self._camera_info: Any | None = None
        self._lock = threading.Lock()
        self.received = {"image": 0, "depth": 0, "camera_info": 0}

    def add_image(self, msg: Any) -> None:
        with self._lock:
            self._images.append(msg)
            self.received["image"] += 1

    def add_depth(self, msg: Any) -> None:
        with self._lock:
            self._depths.append(msg)
            self.received["depth"] += 1

    def add_camera_info(self, msg: Any) -> None:
        with self._lock:
            self._camera_info = msg
            self.received["camera_info"] += 1

    def latest(self) -> RawFrame | None:
        """Newest image that has a depth within slop; else the newest image alone (depth None).

        Colour and depth arrive as separate messages, so the very newest image may still be
        waiting for its depth: the newest complete pair is the frame to ground on.
        """
        with self._lock:
            if not self._images:
                return None
            for image in reversed(self._images):
                target = stamp_ns(image)
                depth = min(self._depths, key=lambda d: abs(stamp_ns(d) - target), default=None)
                if depth is not None and abs(stamp_ns(depth) - target) <= self.slop_ns:
                    pair = image, depth
                    break
            else:
                pair = self._images[-1], None
            camera_info = self._camera_info
        return RawFrame(_resolved(pair[0]), _resolved(pair[1]) if pair[1] is not None else None, camera_info)
