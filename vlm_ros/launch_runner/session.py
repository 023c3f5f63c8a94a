"""Run a launch plan: one subprocess per node, output prefixed, orderly shutdown.

Like `ros2 launch`: each node runs in its own process group; shutdown sends SIGINT, then
SIGTERM after `sigint_timeout`, then SIGKILL after `sigterm_timeout`; a node with
`on_exit: shutdown` stops the launch when it exits. Unlike it, the exit code says whether
anything failed: the first non-zero exit of a node that was not being stopped, else 0.
One monitor thread owns every process transition, so signal handlers only set flags.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

from vlm_ros.launch_runner.description import LaunchPlan, NodeSpec, load_launch_file
from vlm_ros.launch_runner.errors import LaunchError

_POLL_S = 0.05
SYS_STDOUT = object()  # echo default: whatever sys.stdout is when a line is written


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the node if the runner is killed, so no orphan stays in the DDS domain.

    The kernel sends it when the *thread* that started the node ends: start a session from
    a thread that outlives it (the main thread, as the CLI and pytest do).
    """
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def default_log_dir() -> Path:
    """ROS_LOG_DIR, else $ROS_HOME/log, else ~/.ros/log: where ROS 2 tools write logs."""
    if os.environ.get("ROS_LOG_DIR"):
        return Path(os.environ["ROS_LOG_DIR"])
    return Path(os.environ.get("ROS_HOME", Path.home() / ".ros")) / "log"


@dataclass
class _Child:
    spec: NodeSpec
    popen: subprocess.Popen
    readers: list[threading.Thread] = field(default_factory=list)
    log: IO[str] | None = None
    reported: bool = False


class LaunchSession:
    """Start the nodes of a YAML launch file; a context manager that stops them on exit.

    >>> with LaunchSession("demo.launch.yaml", {"ns": "robot1"}) as session:
    ...     session.wait_for_output(r"ready", timeout=10)
    """

    def __init__(
        self,
        path: os.PathLike | str,
        args: Mapping[str, str] | None = None,
        *,
        prefixes: Sequence[os.PathLike | str] = (),
        echo: TextIO | object | None = SYS_STDOUT,
        log_dir: os.PathLike | str | None = None,
        env: Mapping[str, str] | None = None,
        sigint_timeout: float = 5.0,
        sigterm_timeout: float = 5.0,
    ) -> None:
        self.plan: LaunchPlan = load_launch_file(path, args, prefixes)
        self._echo = echo
        self._log_root = Path(log_dir) if log_dir else default_log_dir()
        self._env = dict(env or {})
        self._timeouts = (sigint_timeout, sigterm_timeout)
        self._children: list[_Child] = []
        self._lines: list[tuple[str, str]] = []  # (label, line) in arrival order
        self._cond = threading.Condition()
        self._echo_lock = threading.RLock()  # re-entrant: signal handlers print too
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._done = threading.Event()
        self._stopping = False
        self._failure: int | None = None
        self._monitor: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> LaunchSession:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown("launch session closed")

    def start(self) -> None:
        """Start every node in file order; if one cannot start, stop the others and raise."""
        if self._monitor is not None:
            raise LaunchError("This launch session was already started; create a new one.")
        log_dir = None
        if any(spec.output in ("log", "both") for spec in self.plan.nodes):
            stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
            log_dir = self._log_root / f"{stamp}-{os.uname().nodename}-{os.getpid()}"
            log_dir.mkdir(parents=True, exist_ok=True)
            self._say("INFO", "launch", f"All log files can be found below {log_dir}")
        for spec in self.plan.nodes:
            try:
                self._children.append(self._spawn(spec, log_dir))
            except OSError as exc:
                self._say("ERROR", spec.label, f"could not start {spec.command[0]}: {exc.strerror}")
                self._stop.set()
                self._terminate_all()
                raise LaunchError(
                    f"Node {spec.label!r} could not start: {spec.command[0]}: {exc.strerror}."
                ) from None
        self._monitor = threading.Thread(target=self._run, name="launch-monitor", daemon=True)
        self._monitor.start()

    def request_shutdown(self, reason: str = "shutdown requested") -> None:
        """Ask the monitor to stop every node; safe from a signal handler. Twice: skip the grace."""
        if self._stop.is_set():
            self._hurry.set()
            return
        self._say("INFO", "launch", f"{reason}: stopping all nodes")
        self._stop.set()

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until every node has ended; returns the exit code, or None on timeout."""
        if self._monitor is None:
            raise LaunchError("This launch session has not been started.")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(0.2):  # short waits so signal handlers run in the main thread
            if deadline is not None and time.monotonic() > deadline:
                return None
        return self.returncode

    def shutdown(self, reason: str = "shutdown requested") -> int:
        """Stop every node (SIGINT, then SIGTERM, then SIGKILL) and return the exit code."""
        if self._monitor is None:
            return 0
        if not self._done.is_set():
            self.request_shutdown(reason)
        self._monitor.join()
        return self.returncode or 0

    @property
    def returncode(self) -> int | None:
        """None while running; then the first unexpected failure (128+N for signal N), else 0."""
        return self._failure if self._done.is_set() else None

    @property
    def running(self) -> dict[str, bool]:
        """Node label → whether its process is still alive."""
        return {c.spec.label: c.popen.poll() is None for c in self._children}

    def process(self, label: str) -> subprocess.Popen:
        """The Popen of a node, by its output label (node name, or executable if unnamed)."""
        for child in self._children:
            if child.spec.label == label:
                return child.popen
        raise KeyError(f"No node labelled {label!r}; labels are {[c.spec.label for c in self._children]}.")

    # ---- output ----------------------------------------------------------------------------------

    def output(self, node: str | None = None) -> list[str]:
        """Every line printed so far (stdout and stderr), optionally of one node only."""
        with self._cond:
            return [line for label, line in self._lines if node is None or label == node]

    def wait_for_output(self, pattern: str, timeout: float = 10.0, node: str | None = None) -> re.Match:
        """Wait until a line (of `node`, or any) matches `pattern`; lines seen before count too."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for label, line in self._lines[seen:]:
                    if node is None or label == node:
                        match = regex.search(line)
                        if match:
                            return match
                seen = len(self._lines)
                ended = self._outputs_closed(node)
                remaining = deadline - time.monotonic()
                if ended or remaining <= 0:
                    tail = "\n".join(f"[{lb}] {ln}" for lb, ln in self._lines[-30:]) or "(no output)"
                    why = "the process(es) ended" if ended else f"{timeout:.1f} s passed"
                    raise TimeoutError(f"No output line matched {pattern!r} before {why}. Last lines:\n{tail}")
                self._cond.wait(min(remaining, 0.5))

    def _outputs_closed(self, node: str | None) -> bool:
        children = [c for c in self._children if node is None or c.spec.label == node]
        return bool(children) and all(not any(t.is_alive() for t in c.readers) for c in children)

    def _say(self, level: str, who: str, message: str) -> None:
        self._emit(f"[{level}] [{who}]: {message}")

    def _emit(self, text: str) -> None:
        stream = sys.stdout if self._echo is SYS_STDOUT else self._echo
        if stream is None:
            return
        with self._echo_lock:
            stream.write(text + "\n")
            stream.flush()

    def _pump(self, child: _Child, stream: IO[bytes], is_stderr: bool) -> None:
        spec = child.spec
        to_screen = spec.output in ("screen", "both") or (spec.output == "log" and is_stderr)
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with self._cond:
                self._lines.append((spec.label, line))
                self._cond.notify_all()
            if to_screen:
                self._emit(f"[{spec.label}] {line}")
            if child.log is not None:
                child.log.write(line + "\n")
                child.log.flush()
        stream.close()
        with self._cond:
            self._cond.notify_all()

    # ---- processes -------------------------------------------------------------------------------

    def _spawn(self, spec: NodeSpec, log_dir: Path | None) -> _Child:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env, **self._env}
        popen = subprocess.Popen(
            spec.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # own process group: a terminal's ctrl-c reaches only the runner
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )
        child = _Child(spec, popen)
        if log_dir is not None and spec.output in ("log", "both"):
            child.log = open(log_dir / f"{spec.label}.log", "w", encoding="utf-8")  # noqa: SIM115
        self._say("INFO", spec.label, f"process started with pid [{popen.pid}]")
        for stream, is_stderr in ((popen.stdout, False), (popen.stderr, True)):
            thread = threading.Thread(target=self._pump, args=(child, stream, is_stderr), daemon=True,
                                      name=f"launch-output-{spec.label}")
            thread.start()
            child.readers.append(thread)
        return child

    def _run(self) -> None:
        try:
            while not self._stop.wait(_POLL_S):
                self._reap()
                if all(c.popen.poll() is not None for c in self._children):
                    break
            self._terminate_all()
        finally:
            for child in self._children:
                for reader in child.readers:
                    reader.join(timeout=2.0)
                if child.log is not None:
                    child.log.close()
            self._reap()
            self._failure = self._failure or 0
            self._done.set()
            with self._cond:
                self._cond.notify_all()

    def _reap(self) -> None:
        """Report exits once; an unexpected failure sets the exit code; a required exit stops all."""
        for child in self._children:
            code = child.popen.poll()
            if code is None or child.reported:
                continue
            child.reported = True
            pid, label = child.popen.pid, child.spec.label
            if self._stopping:
                self._say("INFO", label, f"process stopped [pid {pid}, exit code {code}]")
            elif code == 0:
                self._say("INFO", label, f"process has finished cleanly [pid {pid}]")
            else:
                self._say("ERROR", label, f"process has died [pid {pid}, exit code {code}, "
                                          f"cmd '{' '.join(child.spec.command)}']")
                if self._failure is None:
                    self._failure = code if code > 0 else 128 - code
            if child.spec.shutdown_on_exit and not self._stop.is_set():
                self.request_shutdown(f"required node {label!r} exited")

    def _signal_all(self, sig: int) -> None:
        for child in self._children:
            if child.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.popen.pid, sig)

    def _wait_all(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._hurry.is_set():
            self._reap()
            if all(c.popen.poll() is not None for c in self._children):
                return True
            time.sleep(_POLL_S)
        return all(c.popen.poll() is not None for c in self._children)

    def _terminate_all(self) -> None:
        self._reap()
        self._stopping = True
        sigint_timeout, sigterm_timeout = self._timeouts
        for sig, grace in ((signal.SIGINT, sigint_timeout), (signal.SIGTERM, sigterm_timeout)):
            if all(c.popen.poll() is not None for c in self._children):
                return
            self._signal_all(sig)
            if self._wait_all(grace):
                return
            self._say("WARNING", "launch", f"nodes still running {grace:.1f} s after {sig.name}")
        self._signal_all(signal.SIGKILL)
        for child in self._children:
            child.popen.wait()
