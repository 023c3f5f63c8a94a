"""Family-format oracle bench: every VLM family's syntax and frame, end to end through the ROS graph.

    nice .venv/bin/python tools/bench_families.py --episodes 100 --jobs 3

For each family, `vlm-ros bench --grounder oracle --oracle-format FAMILY` runs the tasks in one
sim graph; the oracle answers each phrase in that family's syntax and frame and the family's real
parser reads it back. Reports go to docs/bench/families/FAMILY.json, the table to summary.md.
Each job gets its own ROS domain (ROS_DOMAIN_ID = --domain + job index).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("put-block-in-bowl", "stack-blocks", "place-at-location")


def run_family(family: str, tasks: list[str], episodes: int, out: Path, domain: int, frame_wait_s: float,
               rate_hz: float) -> None:
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ROS_DOMAIN_ID=str(domain))
    cmd = [sys.executable, "-m", "vlm_ros.cli", "bench", "--grounder", "oracle", "--oracle-format", family,
           "--task", ",".join(tasks), "--episodes", str(episodes), "--json", str(out / f"{family}.json"),
           "--frame-wait-s", str(frame_wait_s), "--rate-hz", str(rate_hz)]
    log = (out / f"{family}.log").open("w")
    code = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    print(f"{family}: exit {code}", flush=True)


def cell(report: dict) -> str:
    """'99% of 100 (1 camera-frame timeout)': failures are split into machine starvation and the rest."""
    failures = [r for r in report["results"] if not r["success"]]
    timeouts = sum("No camera frame" in r["reason"] for r in failures)
    text = f"{report['success_rate']:.0%} of {report['episodes']}"
    if failures:
        text += f" ({timeouts} camera-frame timeout{'s' * (timeouts != 1)}, {len(failures) - timeouts} other)"
    return text


def summary(out: Path, families: list[str], tasks: list[str]) -> str:
    rows = ["| family | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks)]
    table: dict[str, dict[str, float]] = {}
    for family in families:
        file = out / f"{family}.json"
        if not file.is_file():
            rows.append(f"| {family} | " + " | ".join("not run" for _ in tasks) + " |")
            continue
        data = json.loads(file.read_text())
        reports = {r["task"]: r for r in data.get("tasks", [data])}
        table[family] = {t: reports[t]["success_rate"] for t in tasks if t in reports}
        cells = [cell(reports[t]) if t in reports else "not run" for t in tasks]
        rows.append(f"| {family} | " + " | ".join(cells) + " |")
    (out / "summary.json").write_text(json.dumps(table, indent=2))
    return "\n".join(rows) + "\n"


def main() -> int:
    from vlm_ros.families import FAMILIES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--domain", type=int, default=int(os.environ.get("ROS_DOMAIN_ID", "40")))
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "families"))
    parser.add_argument("--frame-wait-s", type=float, default=60.0,
                        help="node's wait for a fresh frame (s): several sims at once on a shared machine starve the "
                             "camera, and a plan that times out measures the machine, not the family")
    parser.add_argument("--rate-hz", type=float, default=2.0,
                        help="sim camera rate (Hz): rendering is most of an idle sim's CPU")
    parser.add_argument("--summary-only", action="store_true", help="only rebuild summary.md from the JSON reports")
    args = parser.parse_args()
    families, tasks = args.families.split(","), args.tasks.split(",")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    todo: queue.Queue[str] = queue.Queue()
    for family in families if not args.summary_only else []:
        todo.put(family)

    def worker(index: int) -> None:
        while True:
            try:
                family = todo.get_nowait()
            except queue.Empty:
                return
            run_family(family, tasks, args.episodes, out, args.domain + index, args.frame_wait_s, args.rate_hz)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = summary(out, families, tasks)
    (out / "summary.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
