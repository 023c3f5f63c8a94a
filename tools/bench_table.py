"""Print the README's benchmark table from `vlm-ros bench --json` reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def rows(path: Path, label: str) -> list[str]:
    data = json.loads(path.read_text())
    out = []
    for report in data.get("tasks", [data]):
        lat, wall = report["latency_ms"], report["episode_wall_s"]
        out.append(f"| {report['task']} | {label} | {report['episodes']} | **{report['success_rate']:.0%}** | "
                   f"{lat['p50']:.1f} / {lat['p95']:.1f} | {wall['p50']:.2f} / {wall['p95']:.2f} |")
    return out


def main(args: list[str]) -> None:
    print("| task | grounder, phrasings | episodes | success | instruction→plan p50 / p95 [ms] "
          "| episode p50 / p95 [s] |")
    print("|---|---|---|---|---|---|")
    for arg in args:
        path, _, label = arg.partition("=")
        print("\n".join(rows(Path(path), label or Path(path).stem)))


if __name__ == "__main__":
    main(sys.argv[1:])
