"""Camera topics read when a frame is wanted, instead of dispatched by the executor at camera rate.

rclpy's executor spends about 3 ms of Python per 1-2 MB camera message, so a 30 Hz RGB-D stream
cost `grounding_node` 20 % of a core while nothing asked for a frame (`vlm-ros soak`). A
subscription in a callback group that no executor may run is never put in a wait set: its DDS
reader just keeps the newest samples its QoS allows (CAMERA_QOS: 2), and `drain()` takes them
when a request, the frame wait or the diagnostics timer wants the latest frame. The middleware
still receives every frame (over shared memory, one copy); Python touches only what may be used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rclpy.callback_groups import CallbackGroup
from rclpy.qos import QoSProfile, qos_profile_sensor_data

# sensor_data (best effort, volatile) keeping the 2 newest samples: enough to pair colour with depth,
# and Fast DDS keeps a reader buffer per slot as large as the largest sample it ever held, so 20 huge
# frames (90 MB each) left 705 MB behind with sensor_data's 5 slots.
CAMERA_QOS = QoSProfile(history=qos_profile_sensor_data.history, depth=2,
                        reliability=qos_profile_sensor_data.reliability, durability=qos_profile_sensor_data.durability)


class NeverDispatched(CallbackGroup):
    """A callback group no executor runs: rclpy leaves its entities out of the wait set entirely."""

    def can_execute(self, entity: Any) -> bool:
        return False

    def beginning_execution(self, entity: Any) -> bool:
        return False

    def ending_execution(self, entity: Any) -> None:
        pass


class PulledTopics:
    """Subscriptions whose messages go to their handlers only when `drain()` is called."""

    def __init__(self) -> None:
        self._group = NeverDispatched()
        self._topics: list[tuple[Any, Callable[[Any], None]]] = []
        self._lock = threading.Lock()  # one drain at a time keeps each topic's messages in arrival order

    def subscribe(self, node: Any, msg_type: type, topic: str, handler: Callable[[Any], None], qos: Any,
                  raw: bool = False) -> Any:
        subscription = node.create_subscription(msg_type, topic, handler, qos, callback_group=self._group, raw=raw)
        with self._lock:
            self._topics.append((subscription, handler))
        return subscription

    def clear(self) -> None:
        """Forget the subscriptions (the node destroys them, e.g. on deactivate)."""
        with self._lock:
            self._topics = []

    def drain(self) -> int:
        """Hand every message waiting in the readers to its handler, oldest first; returns how many."""
        taken = 0
        with self._lock:
            for subscription, handler in self._topics:
                while (message := _take(subscription)) is not None:
                    handler(message)
                    taken += 1
        return taken


def _take(subscription: Any) -> Any | None:
    """The next message of `subscription` (serialized bytes for a raw one), or None; None once it is destroyed."""
    try:
        with subscription.handle:
            result = subscription.handle.take_message(subscription.msg_type, subscription.raw)
    except Exception as error:  # destroyed under us (deactivate): nothing left to take
        if type(error).__name__ == "InvalidHandle":
            return None
        raise
    return None if result is None else result[0]
