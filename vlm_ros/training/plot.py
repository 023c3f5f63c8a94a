"""Learning-curve PNG from a run's metrics.jsonl (OpenCV drawing; no matplotlib needed).

    python -m vlm_ros.training.plot runs/tabletop-tiny/metrics.jsonl docs/model/learning_curve.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

W, H, M = 900, 420, 60  # canvas and margin [px]


# recipe changes during the shipped run (samples, label), marked on the curves (docs/model/MODEL_CARD.md)
EVENTS = ((22_400, "copy head"), (28_800, "class prior"), (115_200, "+no-bowl scenes"),
          (153_600, "fine-tune: chains, place-first"), (249_600, "classifier weight 2"),
          (259_200, "next-word copy keys"), (307_200, "more chains"), (435_200, "weighted phrasings"))


def _panel(img, x0, rows, key_fn, label, y_max, color, ticks, events=EVENTS):
    x_max = max(r["samples"] for r in rows)
    w, h = (W - 3 * M) // 2, H - 2 * M
    cv2.rectangle(img, (x0, M), (x0 + w, M + h), (0, 0, 0), 1)
    for k, (samples, name) in enumerate(e for e in events if e[0] <= x_max):
        x = int(x0 + samples / x_max * w)
        cv2.line(img, (x, M), (x, M + h), (160, 160, 160), 1)
        cv2.putText(img, name, (x + 3, M + 14 + 14 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (100, 100, 100), 1)
    for t in ticks:
        y = int(M + h - t / y_max * h)
        cv2.line(img, (x0, y), (x0 + w, y), (220, 220, 220), 1)
        cv2.putText(img, f"{t:g}", (x0 - 40, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    pts = [(int(x0 + r["samples"] / x_max * w), int(M + h - min(key_fn(r), y_max) / y_max * h)) for r in rows]
    cv2.polylines(img, [np.array(pts, np.int32)], False, color, 2)
    for p in pts:
        cv2.circle(img, p, 3, color, -1)
    cv2.putText(img, label, (x0, M - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    cv2.putText(img, f"training samples (max {x_max:,})", (x0 + w // 2 - 90, M + h + 30),
                cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)


def plot(metrics: Path, out: Path, events=EVENTS) -> None:
    """events: (samples, label) recipe changes to mark; () for a run of one recipe straight through."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    img = np.full((H, W, 3), 255, np.uint8)
    _panel(img, M, rows, lambda r: r["val"]["patch_acc"], "pointer patch accuracy (held-out scenes)", 1.0,
           (200, 80, 0), [0.25, 0.5, 0.75, 1.0], events)
    _panel(img, 2 * M + (W - 3 * M) // 2, rows, lambda r: r["val"]["cm_median"], "median point error [cm]", 5.0,
           (0, 0, 200), [1, 2, 3, 4, 5], events)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), img)


if __name__ == "__main__":
    plot(Path(sys.argv[1]), Path(sys.argv[2]))
