"""Lifecycle helpers for grounding_node: entities created per transition, torn down together.

A managed node creates its publishers on configure and its subscriptions, services and actions on
activate, and must remove exactly those again on deactivate/cleanup. `EntityScope` records what a
block of code created on the node (by comparing the node's entity lists before and after), so the
node's wiring code needs no bookkeeping of its own.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from rclpy.lifecycle import TransitionCallbackReturn


class EntityScope:
    """`with scope:` records the subscriptions, publishers, services, clients, timers and actions created."""

    KINDS = ("subscriptions", "publishers", "services", "clients", "timers", "waitables")

    def __init__(self, node: Any):
        self.node = node
        self._before: dict[str, set[int]] = {}
        self.entities: list[tuple[str, Any]] = []

    def _listed(self, kind: str) -> list[Any]:
        return list(getattr(self.node, kind))

    def __enter__(self) -> EntityScope:
        self._before = {kind: {id(e) for e in self._listed(kind)} for kind in self.KINDS}
        return self

    def __exit__(self, *exc: object) -> None:
        for kind in self.KINDS:
            self.entities += [(kind, e) for e in self._listed(kind) if id(e) not in self._before[kind]]

    def destroy(self) -> None:
        """Destroy what was recorded, newest first (action servers before the services they use)."""
        node = self.node
        for kind, entity in reversed(self.entities):
            if kind == "subscriptions":
                node.destroy_subscription(entity)
            elif kind == "publishers":
                node.destroy_publisher(entity)
            elif kind == "services":
                node.destroy_service(entity)
            elif kind == "clients":
                node.destroy_client(entity)
            elif kind == "timers":
                node.destroy_timer(entity)
            elif hasattr(entity, "destroy"):  # ActionServer / ActionClient
                entity.destroy()
        self.entities = []


def free_model_memory() -> None:
    """Return a dropped model's memory: Python objects now, CUDA's cache where torch holds one."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE
