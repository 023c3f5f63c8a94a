"""Closed-loop bench JSONs → the README's table and one PNG (success by attempts, verifier agreement).

    python -m vlm_ros.bench.closed_loop_report graph-1=docs/bench/closed-loop-graph-1-attempt.json ... \\
        --out docs/bench/closed-loop.png

Reads both kinds: `vlm-ros bench --json` reports (through the ROS graph) and
`python -m vlm_ros.sim.closed_loop_bench --json` reports (the same loop in process).
Agreement is per episode: the verdict of the last check against the sim's own task check.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

W, H, M = 1000, 420, 60
INK, GRID, ONE, THREE, AGREE = (30, 30, 30), (220, 220, 220), (200, 110, 50), (60, 140, 60), (40, 120, 200)  # BGR


def rows_of(path: Path) -> list[dict]:
    """One row per task: where, task, grounder, faults, attempts, episodes, success, agreement counts."""
    data = json.loads(path.read_text())
    rows = []
    if "results" in data or ("tasks" in data and isinstance(data["tasks"], list)):  # vlm-ros bench report(s)
        for report in data.get("tasks", [data]) if isinstance(data.get("tasks"), list) else [data]:
            loop = report.get("closed_loop") or {}
            results = report["results"]
            checked = [r for r in results if r.get("verified") is not None]
            rows.append({"where": "ROS graph", "task": report["task"], "grounder": report["grounder"],
                         "faults": loop.get("faults", ""), "max_attempts": loop.get("max_attempts", 1),
                         "episodes": len(results), "success": sum(r["success"] for r in results),
                         "checked": len(checked), "agree": sum(r["verified"] == r["success"] for r in checked),
                         "false_success": sum(r["verified"] and not r["success"] for r in checked),
                         "false_failure": sum(r["success"] and not r["verified"] for r in checked),
                         "mean_attempts": float(np.mean([r.get("attempts", 0) for r in results]))})
        return rows
    for task, body in data["tasks"].items():  # closed_loop_bench report
        records = body["records"]
        checked = [r for r in records if r["verified"] is not None]
        rows.append({"where": "in process", "task": task, "grounder": data["grounder"], "faults": data["faults"],
                     "max_attempts": data["max_attempts"], "episodes": len(records),
                     "success": sum(r["success"] for r in records), "checked": len(checked),
                     "agree": sum(r["verified"] == r["success"] for r in checked),
                     "false_success": sum(r["verified"] and not r["success"] for r in checked),
                     "false_failure": sum(r["success"] and not r["verified"] for r in checked),
                     "mean_attempts": float(np.mean([r["attempts"] for r in records]))})
    return rows


def merge(rows: list[dict]) -> list[dict]:
    """One row per (where, task, grounder, faults, max_attempts): runs split over several seed ranges add up."""
    merged: dict[tuple, dict] = {}
    for r in rows:
        key = (r["where"], r["task"], r["grounder"], r["faults"], r["max_attempts"])
        if key not in merged:
            merged[key] = dict(r, mean_attempts=r["mean_attempts"] * r["episodes"])
            continue
        m = merged[key]
        for field in ("episodes", "success", "checked", "agree", "false_success", "false_failure"):
            m[field] += r[field]
        m["mean_attempts"] += r["mean_attempts"] * r["episodes"]
    for m in merged.values():
        m["mean_attempts"] /= max(1, m["episodes"])
    return list(merged.values())


def table(rows: list[dict]) -> str:
    lines = ["| where | task | grounder | faults | max_attempts | episodes | success | mean attempts "
             "| verifier agrees with the sim | said success, sim failed | said failure, sim succeeded |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        agree = f"{r['agree']}/{r['checked']} ({r['agree'] / r['checked']:.1%})" if r["checked"] else "n/a"
        lines.append(f"| {r['where']} | {r['task']} | {r['grounder']} | {r['faults']} | {r['max_attempts']} "
                     f"| {r['episodes']} | **{r['success'] / r['episodes']:.0%}** | {r['mean_attempts']:.2f} "
                     f"| {agree} | {r['false_success']} | {r['false_failure']} |")
    total = [r for r in rows if r["checked"]]
    if total:
        agree, checked = sum(r["agree"] for r in total), sum(r["checked"] for r in total)
        lines.append(f"| **all** | | | faults on | | {sum(r['episodes'] for r in total)} | | | "
                     f"**{agree}/{checked} ({agree / checked:.1%})** | {sum(r['false_success'] for r in total)} "
                     f"| {sum(r['false_failure'] for r in total)} |")
    return "\n".join(lines)


def _text(img, text, org, scale=0.42, color=INK):
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def draw(rows: list[dict]) -> np.ndarray:
    """Left: success by max_attempts per (where, task); right: verifier agreement per (where, task)."""
    img = np.full((H, W, 3), 255, np.uint8)
    half = (W - 3 * M) // 2
    y0, y1 = M, H - M
    for x0 in (M, 2 * M + half):
        for frac in (0.0, 0.5, 0.9, 1.0):
            y = int(y1 - frac * (y1 - y0))
            cv2.line(img, (x0, y), (x0 + half, y), GRID, 1)
            _text(img, f"{frac:.0%}", (x0 - 42, y + 4))
    groups: dict[tuple[str, str, str], dict[int, dict]] = {}
    for r in rows:
        groups.setdefault((r["where"], r["task"], r["grounder"]), {})[int(r["max_attempts"])] = r
    width = half // max(1, len(groups))
    for i, ((where, task, grounder), by_attempts) in enumerate(groups.items()):
        for j, (attempts, color) in enumerate(((1, ONE), (3, THREE))):
            r = by_attempts.get(attempts)
            if r is None:
                continue
            rate = r["success"] / r["episodes"]
            x = M + i * width + 6 + j * (width - 12) // 2
            cv2.rectangle(img, (x, int(y1 - rate * (y1 - y0))), (x + (width - 12) // 2 - 4, y1), color, -1)
            _text(img, f"{rate:.0%}", (x, int(y1 - rate * (y1 - y0)) - 5), 0.38)
        _text(img, f"{task.removeprefix('put-')[:14]}", (M + i * width + 2, y1 + 16), 0.32)
        _text(img, f"{where}, {grounder[:6]}", (M + i * width + 2, y1 + 30), 0.3)
    _text(img, "success: 1 attempt (blue) vs 3 attempts (green), faults on", (M, y0 - 20), 0.48)
    checked = [r for r in rows if r["checked"]]
    width = half // max(1, len(checked))
    x0 = 2 * M + half
    for i, r in enumerate(checked):
        rate = r["agree"] / r["checked"]
        x = x0 + i * width + 4
        cv2.rectangle(img, (x, int(y1 - rate * (y1 - y0))), (x + width - 8, y1), AGREE, -1)
        _text(img, f"{rate:.0%}", (x, int(y1 - rate * (y1 - y0)) - 5), 0.34)
        _text(img, f"{r['task'].removeprefix('put-')[:6]} a{r['max_attempts']}", (x, y1 + 16), 0.3)
    total = sum(r["agree"] for r in checked), sum(r["checked"] for r in checked)
    if total[1]:
        _text(img, f"verifier agrees with the sim: {total[0]}/{total[1]} ({total[0] / total[1]:.1%})",
              (x0, y0 - 20), 0.48)
    return img


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="JSON reports (vlm-ros bench or closed_loop_bench)")
    parser.add_argument("--out", help="write the PNG here")
    args = parser.parse_args(argv)
    rows = merge([row for path in args.reports for row in rows_of(Path(path))])
    print(table(rows))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(args.out, draw(rows))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
