"""`$(...)` substitutions of the ROS 2 launch frontend, the subset our launch files use.

Supported: `$(var NAME)`, `$(env NAME [DEFAULT])`, `$(optenv NAME [DEFAULT])`,
`$(find-pkg-share PKG)`, `$(find-pkg-prefix PKG)`, `$(dirname)`, `$(filename)`.
Substitutions nest (`$(env X $(var y))`) and arguments may be quoted with ' or ".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vlm_ros.launch_runner.errors import LaunchError
from vlm_ros.launch_runner.packages import find_package_prefix_or_raise, find_package_share


@dataclass
class Context:
    """What substitutions can see: launch configurations (args, lets) and where the file is."""

    launch_file: Path
    configs: dict[str, str] = field(default_factory=dict)
    prefixes: tuple[Path, ...] = ()


def _matching_paren(text: str, start: int, where: str) -> int:
    """Index of the ')' closing the '$(' at `start`, skipping nested '$(' and quoted text."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif text.startswith("$(", i):
            depth += 1
            i += 1
        elif ch in "'\"" and depth > 0:
            quote = ch
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise LaunchError(f"{where}: substitution {text[start:]!r} has no closing ')'.")


def _tokens(body: str, where: str) -> list[str]:
    """Split a substitution body at top-level whitespace; strip quotes around whole tokens."""
    tokens, current, i = [], "", 0
    while i < len(body):
        if body.startswith("$(", i):
            end = _matching_paren(body, i, where)
            current += body[i : end + 1]
            i = end + 1
            continue
        ch = body[i]
        if ch in "'\"":
            end = body.find(ch, i + 1)
            if end < 0:
                raise LaunchError(f"{where}: unbalanced quote in substitution '$({body})'.")
            current += body[i : end + 1]
            i = end + 1
            continue
        if ch.isspace():
            if current:
                tokens.append(current)
            current = ""
        else:
            current += ch
        i += 1
    if current:
        tokens.append(current)
    return [t[1:-1] if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"" else t for t in tokens]


def _var(ctx: Context, where: str, name: str) -> str:
    if name not in ctx.configs:
        raise LaunchError(
            f"{where}: $(var {name}) is not set; declare it with an 'arg' entry (with a default) "
            f"or pass {name}:=VALUE."
        )
    return ctx.configs[name]


def _env(ctx: Context, where: str, name: str, *default: str) -> str:
    if name in os.environ:
        return os.environ[name]
    if default:
        return " ".join(default)
    raise LaunchError(f"{where}: environment variable {name!r} of $(env {name}) is not set and has no default.")


def _optenv(ctx: Context, where: str, name: str, *default: str) -> str:
    return os.environ.get(name, " ".join(default))


def _pkg_share(ctx: Context, where: str, package: str) -> str:
    try:
        return str(find_package_share(package, ctx.prefixes))
    except LaunchError as exc:
        raise LaunchError(f"{where}: {exc}") from None


def _pkg_prefix(ctx: Context, where: str, package: str) -> str:
    try:
        return str(find_package_prefix_or_raise(package, ctx.prefixes))
    except LaunchError as exc:
        raise LaunchError(f"{where}: {exc}") from None


# name -> (function, fewest arguments, most arguments)
_SUBSTITUTIONS: dict[str, tuple[Callable[..., str], int, int]] = {
    "var": (_var, 1, 1),
    "env": (_env, 1, 99),
    "optenv": (_optenv, 1, 99),
    "find-pkg-share": (_pkg_share, 1, 1),
    "find-pkg-prefix": (_pkg_prefix, 1, 1),
    "dirname": (lambda ctx, where: str(ctx.launch_file.parent), 0, 0),
    "filename": (lambda ctx, where: ctx.launch_file.name, 0, 0),
}


def _evaluate(body: str, ctx: Context, where: str) -> str:
    tokens = _tokens(body, where)
    if not tokens:
        raise LaunchError(f"{where}: empty substitution '$()'.")
    name, raw_args = tokens[0], tokens[1:]
    if name not in _SUBSTITUTIONS:
        raise LaunchError(
            f"{where}: unknown substitution '$({name} ...)'; supported: {', '.join(_SUBSTITUTIONS)}."
        )
    func, least, most = _SUBSTITUTIONS[name]
    if not least <= len(raw_args) <= most:
        count = str(least) if least == most else f"{least} or more"
        raise LaunchError(f"{where}: $({name}) takes {count} argument(s), got {len(raw_args)} in '$({body})'.")
    return func(ctx, where, *(resolve(arg, ctx, where) for arg in raw_args))


def resolve(text: str, ctx: Context, where: str) -> str:
    """Replace every `$(...)` in `text`; `where` (file and key) prefixes any error message."""
    out, i = [], 0
    while True:
        start = text.find("$(", i)
        if start < 0:
            out.append(text[i:])
            return "".join(out)
        end = _matching_paren(text, start, where)
        out.append(text[i:start])
        out.append(_evaluate(text[start + 2 : end], ctx, where))
        i = end + 1
