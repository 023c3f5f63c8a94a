"""A tf2-style transform buffer in plain Python (no rclpy, no tf2_ros).

Where only the pip wheels exist there is no tf2_ros, yet every robot publishes its frame tree on
`/tf` and `/tf_static`. This buffer keeps that tree: static edges once, dynamic edges as a short
time series per child frame; a lookup chains the edges through the frames' common ancestor and
evaluates each dynamic edge at the requested stamp (linear in translation, spherical in rotation,
between the two samples around it). Quaternion algebra comes from transforms3d.

Conventions follow tf2: each child has one parent; `lookup(target, source, t)` returns the 4x4 that
maps points in `source` to `target`; stamp 0 asks for the latest common time.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import transforms3d.quaternions as tq

from vlm_ros.core.errors import InputError


class TransformLookupError(InputError):
    """A transform is unknown, disconnected, or not available at the stamp asked for."""


class ExtrapolationError(TransformLookupError):
    """The frames connect, but a dynamic edge has no data at the stamp (yet)."""


@dataclass
class _Edge:
    """parent ← child: static (one sample) or a time series kept for `cache_ns`."""

    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)  # sorted [ns]
    translations: list[np.ndarray] = field(default_factory=list)  # [3] m
    rotations: list[np.ndarray] = field(default_factory=list)  # [4] unit quaternion, transforms3d order (w, x, y, z)

    def add(self, stamp_ns: int, translation: np.ndarray, rotation_wxyz: np.ndarray, cache_ns: int) -> None:
        if self.static:
            self.stamps, self.translations, self.rotations = [stamp_ns], [translation], [rotation_wxyz]
            return
        i = bisect.bisect_left(self.stamps, stamp_ns)
        if i < len(self.stamps) and self.stamps[i] == stamp_ns:  # a republished sample replaces the old one
            self.translations[i], self.rotations[i] = translation, rotation_wxyz
        else:
            self.stamps.insert(i, stamp_ns)
            self.translations.insert(i, translation)
            self.rotations.insert(i, rotation_wxyz)
        cut = bisect.bisect_left(self.stamps, self.stamps[-1] - cache_ns)
        if cut:
            del self.stamps[:cut], self.translations[:cut], self.rotations[:cut]

    def at(self, stamp_ns: int, tolerance_ns: int, child: str) -> np.ndarray:
        """4x4 parent ← child at the stamp (static edges hold at every time)."""
        if self.static or stamp_ns == 0:
            return _matrix(self.translations[-1], self.rotations[-1])
        first, last = self.stamps[0], self.stamps[-1]
        if stamp_ns > last:
            if stamp_ns - last <= tolerance_ns:
                return _matrix(self.translations[-1], self.rotations[-1])
            raise ExtrapolationError(
                f"the transform {self.parent} ← {child} is known only up to {last / 1e9:.3f} s, "
                f"not yet at the image's {stamp_ns / 1e9:.3f} s")
        if stamp_ns < first:
            if first - stamp_ns <= tolerance_ns:
                return _matrix(self.translations[0], self.rotations[0])
            raise ExtrapolationError(
                f"the transform {self.parent} ← {child} at {stamp_ns / 1e9:.3f} s is older than the "
                f"buffer's oldest sample ({first / 1e9:.3f} s)")
        i = bisect.bisect_left(self.stamps, stamp_ns)
        if self.stamps[i] == stamp_ns:
            return _matrix(self.translations[i], self.rotations[i])
        t0, t1 = self.stamps[i - 1], self.stamps[i]
        w = (stamp_ns - t0) / (t1 - t0)
        translation = (1 - w) * self.translations[i - 1] + w * self.translations[i]
        return _matrix(translation, _slerp(self.rotations[i - 1], self.rotations[i], w))


def _matrix(translation: np.ndarray, rotation_wxyz: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = tq.quat2mat(rotation_wxyz)
    m[:3, 3] = translation
    return m


def _slerp(q0: np.ndarray, q1: np.ndarray, w: float) -> np.ndarray:
    """Spherical interpolation along the shorter arc, built on transforms3d's axis-angle maps."""
    if np.dot(q0, q1) < 0:
        q1 = -q1
    axis, angle = tq.quat2axangle(tq.qmult(tq.qinverse(q0), q1))
    return tq.qmult(q0, tq.axangle2quat(axis, angle * w))


def _checked_rotation(qx: float, qy: float, qz: float, qw: float) -> np.ndarray:
    q = np.array([qw, qx, qy, qz], dtype=float)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or abs(norm - 1.0) > 1e-3:
        raise ValueError(f"rotation quaternion ({qx}, {qy}, {qz}, {qw}) is not a unit quaternion")
    return q / norm


class TransformBuffer:
    """The frame tree from /tf and /tf_static; thread-safe (callbacks add, grounding looks up)."""

    def __init__(self, cache_time_s: float = 10.0, tolerance_s: float = 0.0):
        self.cache_ns = int(cache_time_s * 1e9)
        self.tolerance_ns = int(tolerance_s * 1e9)
        self._edges: dict[str, _Edge] = {}  # child → edge to its parent
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def set_transform(self, parent: str, child: str, stamp_ns: int, translation: tuple[float, float, float],
                      rotation_xyzw: tuple[float, float, float, float], static: bool = False) -> None:
        """Add one parent ← child sample (ROS quaternion order x, y, z, w). Raises ValueError when malformed."""
        parent, child = parent.lstrip("/"), child.lstrip("/")
        if not parent or not child or parent == child:
            raise ValueError(f"a transform needs two different frame ids, got {parent!r} ← {child!r}")
        t = np.array(translation, dtype=float)
        if t.shape != (3,) or not np.all(np.isfinite(t)):
            raise ValueError(f"translation {tuple(translation)} of {parent} ← {child} is not finite")
        q = _checked_rotation(*rotation_xyzw)
        with self._changed:
            edge = self._edges.get(child)
            if edge is None or edge.parent != parent or edge.static != static:
                edge = self._edges[child] = _Edge(parent, static)  # re-parenting replaces the edge, as in tf2
            edge.add(int(stamp_ns), t, q, self.cache_ns)
            self._changed.notify_all()

    def known_frames(self) -> list[str]:
        with self._lock:
            return sorted(set(self._edges) | {e.parent for e in self._edges.values()})

    def sample_stamps(self, child: str) -> list[int]:
        """Stamps [ns] of the samples held for the edge parent ← `child` (one for a static edge; [] if unknown)."""
        with self._lock:
            edge = self._edges.get(child.lstrip("/"))
            return list(edge.stamps) if edge is not None else []

    def has_frame(self, frame: str) -> bool:
        return frame.lstrip("/") in self.known_frames()

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> np.ndarray:
        """4x4 mapping points in `source` to `target` at `stamp_ns` (0: latest)."""
        target, source = target.lstrip("/"), source.lstrip("/")
        with self._lock:
            return self._lookup_locked(target, source, stamp_ns)

    def wait_lookup(self, target: str, source: str, stamp_ns: int, timeout_s: float) -> np.ndarray:
        """lookup(), waiting up to timeout_s for data at the stamp to arrive (a bounded wait, as tf2's)."""
        target, source = target.lstrip("/"), source.lstrip("/")
        with self._changed:
            deadline = None
            while True:
                try:
                    return self._lookup_locked(target, source, stamp_ns)
                except TransformLookupError:
                    now = time.monotonic()
                    deadline = deadline if deadline is not None else now + timeout_s
                    if now >= deadline:
                        raise
                    self._changed.wait(deadline - now)

    def _chain(self, frame: str) -> list[str]:
        chain = [frame]
        while chain[-1] in self._edges and len(chain) <= len(self._edges):
            chain.append(self._edges[chain[-1]].parent)
        return chain

    def _lookup_locked(self, target: str, source: str, stamp_ns: int) -> np.ndarray:
        if target == source:
            return np.eye(4)
        up_source, up_target = self._chain(source), self._chain(target)
        common = next((f for f in up_source if f in up_target), None)
        if common is None:
            known = sorted(set(self._edges) | {e.parent for e in self._edges.values()})
            missing = [f for f in (target, source) if f not in known]
            detail = f" ({', '.join(missing)} never published)" if missing else " (the frames are not connected)"
            raise TransformLookupError(
                f"no transform {target} ← {source}{detail}; known frames: {', '.join(known) or 'none'}")
        if stamp_ns == 0:
            stamp_ns = self._latest_common(up_source[: up_source.index(common)] +
                                           up_target[: up_target.index(common)])
        common_from_source = self._to_ancestor(up_source, common, stamp_ns)
        common_from_target = self._to_ancestor(up_target, common, stamp_ns)
        return np.linalg.inv(common_from_target) @ common_from_source

    def _to_ancestor(self, chain: list[str], ancestor: str, stamp_ns: int) -> np.ndarray:
        matrix = np.eye(4)
        for child in chain[: chain.index(ancestor)]:
            matrix = self._edges[child].at(stamp_ns, self.tolerance_ns, child) @ matrix
        return matrix

    def _latest_common(self, children: list[str]) -> int:
        """tf2's 'time 0': the newest stamp every dynamic edge on the path has data for (0 if all static)."""
        latest = [self._edges[c].stamps[-1] for c in children if not self._edges[c].static]
        return min(latest) if latest else 0
