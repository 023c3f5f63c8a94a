"""Point the ROS wheels' exported CMake files at this venv's Python and numpy headers.

The Kilted wheels were built in a manylinux container, so their CMake exports name
/opt/python/cp311-cp311/...; CMake refuses imported targets whose include dirs do not
exist, which breaks building any interface package against them.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

BUILD_PYTHON = "/opt/python/cp311-cp311"


def replacements() -> list[tuple[str, str]]:
    import numpy

    return [
        (f"{BUILD_PYTHON}/lib/python3.11/site-packages/numpy/_core/include", numpy.get_include()),
        (f"{BUILD_PYTHON}/include/python3.11", sysconfig.get_paths()["include"]),
    ]


def fix(prefix: Path) -> int:
    changed = 0
    pairs = replacements()
    for path in (prefix / "share").rglob("*.cmake"):
        text = path.read_text(errors="surrogateescape")
        if BUILD_PYTHON not in text:
            continue
        for old, new in pairs:
            text = text.replace(old, new)
        path.write_text(text, errors="surrogateescape")
        changed += 1
    return changed


if __name__ == "__main__":
    prefix = Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix)
    print(f"[setup] rewrote build-machine paths in {fix(prefix)} CMake files")
