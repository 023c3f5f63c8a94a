"""Where packages live: the ament index first, then (for a source checkout) the repository.

`ros2 launch` finds a package's share folder and executables through the ament index
(`<prefix>/share/ament_index/resource_index/packages/<pkg>` in each AMENT_PREFIX_PATH entry).
We do the same, and also search the running interpreter's prefix (the venv, where the pip
ROS wheels register their packages) so AMENT_PREFIX_PATH need not be set. A package that is
not in any index but is importable from a source checkout, i.e. the folder above the Python
package holds a package.xml with the same <name> (vlm_ros in an editable install), uses that
folder as its share directory: launch/ and config/ sit there exactly as under share/<pkg>/.
Executables fall back to the console scripts of the Python distribution named like the package.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from vlm_ros.launch_runner.errors import LaunchError


def ament_prefixes(extra: Sequence[os.PathLike | str] = ()) -> list[Path]:
    """Install prefixes to search, in order: `extra`, AMENT_PREFIX_PATH, this interpreter's prefix."""
    entries = [*map(str, extra), *os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep), sys.prefix]
    seen: dict[Path, None] = {}
    for entry in entries:
        if entry:
            seen.setdefault(Path(entry), None)
    return list(seen)


def find_package_prefix(package: str, extra: Sequence[os.PathLike | str] = ()) -> Path | None:
    """The first prefix whose ament index registers `package`, or None."""
    for prefix in ament_prefixes(extra):
        if (prefix / "share" / "ament_index" / "resource_index" / "packages" / package).is_file():
            return prefix
    return None


def source_checkout(package: str) -> Path | None:
    """The repository root of an importable Python package whose package.xml names it."""
    if not package.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))).parent
    manifest = root / "package.xml"
    if manifest.is_file() and re.search(rf"<name>\s*{re.escape(package)}\s*</name>", manifest.read_text()):
        return root
    return None


def find_package_share(package: str, extra: Sequence[os.PathLike | str] = ()) -> Path:
    """`$(find-pkg-share PKG)`: `<prefix>/share/PKG` from the ament index, else the source checkout."""
    prefix = find_package_prefix(package, extra)
    if prefix is not None:
        return prefix / "share" / package
    root = source_checkout(package)
    if root is not None:
        return root
    searched = ", ".join(str(p) for p in ament_prefixes(extra))
    raise LaunchError(
        f"Package {package!r} was not found: it is in no ament index (searched {searched}) and "
        "is not an importable source checkout with a package.xml."
    )


def find_package_prefix_or_raise(package: str, extra: Sequence[os.PathLike | str] = ()) -> Path:
    """`$(find-pkg-prefix PKG)`: the install prefix, or the source checkout as for the share folder."""
    prefix = find_package_prefix(package, extra)
    if prefix is not None:
        return prefix
    return find_package_share(package, extra)


def _console_script(package: str, executable: str) -> list[str] | None:
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    entry = next((ep for ep in dist.entry_points if ep.group == "console_scripts" and ep.name == executable), None)
    if entry is None:
        return None
    candidates = [Path(str(dist.locate_file(f))) for f in dist.files or () if f.name == executable]
    candidates += [Path(sysconfig.get_path("scripts")) / executable, Path(sys.executable).parent / executable]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return [os.path.normpath(path.absolute())]
    # Installed without its wrapper script (e.g. PYTHONPATH checkout): run the entry point directly.
    code = (
        "import sys; from importlib.metadata import EntryPoint; "
        f"sys.exit(EntryPoint(name={entry.name!r}, value={entry.value!r}, group='console_scripts').load()())"
    )
    return [sys.executable, "-c", code]


def find_executable(package: str, executable: str, extra: Sequence[os.PathLike | str] = ()) -> list[str]:
    """The command that starts `executable` of `package`, as launch_ros resolves `pkg` + `exec`."""
    prefix = find_package_prefix(package, extra)
    looked: list[str] = []
    if prefix is not None:
        path = prefix / "lib" / package / executable
        if path.is_file() and os.access(path, os.X_OK):
            return [str(path)]
        looked.append(str(path))
    command = _console_script(package, executable)
    if command is not None:
        return command
    where = f"looked at {', '.join(looked)} and" if looked else f"{package!r} is in no ament index, and looked"
    raise LaunchError(
        f"Executable {executable!r} of package {package!r} was not found: {where} in the console "
        f"scripts of the Python distribution {package!r}."
    )
