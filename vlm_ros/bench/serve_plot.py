"""Fleet bench runs -> one PNG: throughput and latency (p50, p95) against the number of robots.

OpenCV drawing like vlm_ros/bench/plot.py, so plotting needs nothing beyond the runtime
dependencies. One line per replica count; x is log2(clients).
"""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np

W, H, M = 1000, 420, 70
INK, GRID = (30, 30, 30), (220, 220, 220)
COLOURS = [(160, 90, 40), (40, 120, 200), (60, 140, 60), (120, 60, 160)]  # BGR per replica count


def _text(img, text, org, scale=0.45, color=INK):
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def _panel(img, x0, width, title, series, y_label):
    """series: [(label, colour, [(clients, value), ...], dashed)]."""
    y0, y1 = M, H - M
    xs = sorted({c for _, _, pts, _ in series for c, _ in pts})
    top = max((v for _, _, pts, _ in series for _, v in pts), default=1.0) * 1.15 or 1.0
    lo, hi = math.log2(min(xs)), math.log2(max(xs)) or 1.0

    def px(c, v):
        fx = (math.log2(c) - lo) / ((hi - lo) or 1.0)
        return int(x0 + fx * width), int(y1 - v / top * (y1 - y0))

    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = int(y1 - frac * (y1 - y0))
        cv2.line(img, (x0, y), (x0 + width, y), GRID, 1)
        _text(img, f"{frac * top:.1f}" if top < 10 else f"{frac * top:.0f}", (x0 - 45, y + 4), 0.4)
    for c in xs:
        x, _ = px(c, 0)
        _text(img, str(c), (x - 6, y1 + 18), 0.4)
    _text(img, title, (x0, y0 - 25), 0.55)
    _text(img, "robots (clients)", (x0 + width // 2 - 50, y1 + 40), 0.4)
    _text(img, y_label, (x0 - 60, y0 - 8), 0.4)
    for i, (label, colour, pts, dashed) in enumerate(series):
        pts = sorted(pts)
        for (ca, va), (cb, vb) in itertools.pairwise(pts):
            a, b = np.array(px(ca, va)), np.array(px(cb, vb))
            if dashed:
                for t in np.arange(0, 1, 0.1):
                    cv2.line(img, tuple((a + (b - a) * t).astype(int)), tuple((a + (b - a) * (t + 0.05)).astype(int)),
                             colour, 2, cv2.LINE_AA)
            else:
                cv2.line(img, tuple(a), tuple(b), colour, 2, cv2.LINE_AA)
        for c, v in pts:
            cv2.circle(img, px(c, v), 4, colour, -1, cv2.LINE_AA)
        _text(img, label, (x0 + 10, y0 + 18 + 18 * i), 0.42, colour)


def draw(runs: list[dict]) -> np.ndarray:
    img = np.full((H, W, 3), 255, np.uint8)
    half = (W - 3 * M) // 2
    replica_counts = sorted({r["replicas"] for r in runs})
    tput, lat = [], []
    for i, n in enumerate(replica_counts):
        mine = [r for r in runs if r["replicas"] == n]
        colour = COLOURS[i % len(COLOURS)]
        tput.append((f"{n} replica(s)", colour, [(r["clients"], r["throughput_plans_s"]) for r in mine], False))
        lat.append((f"{n} replica(s) p50", colour, [(r["clients"], r["latency_ms"]["p50"]) for r in mine], False))
        lat.append((f"{n} replica(s) p95", colour, [(r["clients"], r["latency_ms"]["p95"]) for r in mine], True))
    _panel(img, M, half, "throughput (plans/s)", tput, "plans/s")
    _panel(img, 2 * M + half, half, "latency per plan (ms)", lat, "ms")
    return img


def write_plot(runs: list[dict], path: str) -> None:
    if not cv2.imwrite(path, draw(runs)):
        raise OSError(f"could not write {path}")
