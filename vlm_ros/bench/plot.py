"""Bench report(s) → one PNG: success rate per task and the instruction→plan latency histogram.

    python -m vlm_ros.bench.plot docs/bench/model.json [more.json ...] --out docs/bench/bench.png

OpenCV drawing, so plotting needs nothing beyond the runtime dependencies.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

W, H, M = 1000, 420, 60  # canvas, margin [px]
INK, GRID, BAR, HIST = (30, 30, 30), (220, 220, 220), (60, 140, 60), (160, 90, 40)  # BGR


def load_reports(paths: list[str]) -> list[dict]:
    reports: list[dict] = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        reports += data.get("tasks", [data])
    return reports


def _text(img, text, org, scale=0.45, color=INK):
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def draw(reports: list[dict]) -> np.ndarray:
    img = np.full((H, W, 3), 255, np.uint8)
    half = (W - 3 * M) // 2
    # left: success per task
    x0, y0, y1 = M, M, H - M
    for frac in (0.0, 0.5, 0.9, 1.0):
        y = int(y1 - frac * (y1 - y0))
        cv2.line(img, (x0, y), (x0 + half, y), GRID, 1)
        _text(img, f"{frac:.0%}", (x0 - 45, y + 4))
    width = half // max(1, len(reports))
    for i, report in enumerate(reports):
        top = int(y1 - report["success_rate"] * (y1 - y0))
        cv2.rectangle(img, (x0 + i * width + 8, top), (x0 + (i + 1) * width - 8, y1), BAR, -1)
        _text(img, f"{report['success_rate']:.0%}", (x0 + i * width + 10, top - 6))
        _text(img, report["task"].removeprefix("put-")[:17], (x0 + i * width + 2, y1 + 18), 0.34)
    _text(img, f"success per task ({reports[0]['grounder']}, {reports[0]['episodes']} episodes each)",
          (x0, y0 - 20), 0.5)
    # right: latency histogram over every episode
    latencies = np.array([r["latency_ms"] for rep in reports for r in rep["results"]
                          if r["latency_ms"] == r["latency_ms"]])
    x0 = 2 * M + half
    if latencies.size:
        top = float(np.percentile(latencies, 99))  # a first-call warm-up outlier would squash the rest
        counts, edges = np.histogram(np.minimum(latencies, top), bins=25, range=(float(latencies.min()), top))
        peak = counts.max()
        bw = half / len(counts)
        for j, count in enumerate(counts):
            top = int(y1 - count / peak * (y1 - y0))
            cv2.rectangle(img, (int(x0 + j * bw), top), (int(x0 + (j + 1) * bw) - 1, y1), HIST, -1)
        for j in (0, len(edges) // 2, len(edges) - 1):
            _text(img, f"{edges[j]:.0f}", (int(x0 + j * bw) - 10, y1 + 18))
        p50, p95 = np.percentile(latencies, [50, 95])
        _text(img, f"instruction -> plan [ms]: p50 {p50:.1f}, p95 {p95:.1f}, n={latencies.size} (>p99 in last bin)",
              (x0, y0 - 20), 0.5)
    cv2.line(img, (x0, y1), (x0 + half, y1), INK, 1)
    return img


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="JSON written by vlm-ros bench --json")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, draw(load_reports(args.reports)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
