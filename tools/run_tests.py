"""Run each test file in a pytest process of its own, then print one summary line.

Why: rclpy, PyBullet and pocketsphinx keep native state per process. Objects a test file
leaves for the garbage collector can outlive the rclpy context that made them and crash a
later file (seen as a segfault in gc); a fresh process per file also gives each file its
own ROS_DOMAIN_ID (tests/conftest.py derives it from the pid).

    python tools/run_tests.py [pytest args...] [tests/test_x.py ...]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected)")


def main(argv: list[str]) -> int:
    files = [a for a in argv if a.endswith(".py")]
    options = [a for a in argv if not a.endswith(".py")]
    files = files or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py"))
    totals: Counter[str] = Counter()
    broken: list[str] = []
    start = time.monotonic()
    for path in files:
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", *options, path], cwd=ROOT,
                                capture_output=True, text=True)
        lines = result.stdout.strip().splitlines()
        summary = lines[-1] if lines else ""
        counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in COUNT.findall(summary)}
        totals.update(counts)
        ok = result.returncode in (0, 5) and not counts.get("failed") and not counts.get("error")
        print(f"{'ok  ' if ok else 'FAIL'} {path}: {summary.strip('= ') or f'exit {result.returncode}'}", flush=True)
        for reason in (line for line in lines if line.startswith(("SKIPPED", "XFAIL", "XPASS"))):
            print(f"     {reason}")
        if not ok:
            broken.append(path)
            if not counts.get("failed") and not counts.get("error"):
                totals["crashed"] += 1  # the process died (segfault, timeout) before pytest could count
            sys.stdout.write(result.stdout[-20000:] + result.stderr[-5000:])
    failed = totals["failed"] + totals["error"] + totals["crashed"]
    extras = [f"{totals[k]} {k}" for k in ("xfailed", "xpassed", "error", "crashed") if totals[k]]
    print(f"\n{len(files)} test files in {time.monotonic() - start:.0f} s; failing: {', '.join(broken) or 'none'}"
          + (f"; also {', '.join(extras)}" if extras else ""))
    print(f"{totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
