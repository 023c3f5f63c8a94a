"""`vlm-ros launch [PKG] FILE [name:=value ...]`: `ros2 launch` for the pip-only ROS 2 install.

Runs the same YAML launch files as `ros2 launch` (see vlm_ros.launch_runner). FILE is a path,
or a file name looked up in the launch/ folder of PKG (default vlm_ros).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys

HELP = "run a ROS 2 YAML launch file (like ros2 launch, without launch_ros)"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("launch", help=HELP, description=__doc__.splitlines()[0])
    parser.add_argument("file", metavar="[PKG] FILE", help="launch file: a path, or a name in PKG's launch/ "
                        "folder (PKG defaults to vlm_ros)")
    parser.add_argument("launch_args", nargs="*", metavar="name:=value", help="launch arguments")
    parser.add_argument("--prefix", action="append", default=[], metavar="DIR",
                        help="extra install prefix searched before AMENT_PREFIX_PATH (repeatable)")
    parser.add_argument("-s", "--show-args", action="store_true", help="list the file's arguments and exit")
    parser.add_argument("--print-commands", action="store_true",
                        help="print each node's command line instead of running it")
    parser.add_argument("--sigint-timeout", type=float, default=5.0, metavar="S",
                        help="seconds after SIGINT before nodes get SIGTERM (default 5)")
    parser.add_argument("--sigterm-timeout", type=float, default=5.0, metavar="S",
                        help="seconds after SIGTERM before nodes get SIGKILL (default 5)")
    parser.set_defaults(func=run)


def split_targets(targets: list[str]) -> tuple[str | None, str, dict[str, str]]:
    """`[PKG] FILE name:=value ...` → (package, file, launch arguments)."""
    positional = [t for t in targets if ":=" not in t]
    launch_args: dict[str, str] = {}
    for token in targets:
        if ":=" in token:
            name, value = token.split(":=", 1)
            if not name:
                raise ValueError(f"launch argument {token!r} has no name; write name:=value.")
            launch_args[name] = value
    if len(positional) not in (1, 2):
        raise ValueError(f"expected [PKG] FILE then name:=value arguments, got {' '.join(targets)!r}.")
    package = positional[0] if len(positional) == 2 else None
    return package, positional[-1], launch_args


def run(args: argparse.Namespace) -> int:
    from vlm_ros.launch_runner import LaunchError, LaunchSession, declared_arguments, find_launch_file

    try:
        package, name, launch_args = split_targets([args.file, *args.launch_args])
        path = find_launch_file(name, package, args.prefix)
        if args.show_args:
            _show_args(declared_arguments(path))
            return 0
        session = LaunchSession(path, launch_args, prefixes=args.prefix, sigint_timeout=args.sigint_timeout,
                                sigterm_timeout=args.sigterm_timeout)
        for unused in session.plan.unused_arguments:
            print(f"[WARNING] [launch]: argument {unused!r} is not declared in {path.name}", file=sys.stderr)
        if args.print_commands:
            for node in session.plan.nodes:
                print(f"{node.label}: {shlex.join(node.command)}")
            return 0
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for sig in previous:
                signal.signal(sig, lambda num, _frame: session.request_shutdown(
                    f"received {signal.Signals(num).name}"))
            session.start()
            code = session.wait()
        finally:
            session.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return int(code or 0)
    except (LaunchError, ValueError) as exc:
        print(f"vlm-ros launch: error: {exc}", file=sys.stderr)
        return 1


def _show_args(specs: list) -> None:
    if not specs:
        print("This launch file takes no arguments.")
        return
    print("Arguments (pass arguments as '<name>:=<value>'):")
    for spec in specs:
        default = "(required)" if spec.default is None else f"default: '{spec.default}'"
        print(f"\n    '{spec.name}':\n        {spec.description or 'no description given'}\n        ({default})")
        if spec.choices:
            print(f"        choices: {', '.join(spec.choices)}")
