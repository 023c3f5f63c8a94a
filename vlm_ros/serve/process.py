"""Run `vlm-ros serve` as a child process on loopback: for tests and the fleet bench.

The server (and the Ray processes it starts) get their own process group, so stopping it
stops all of them; it is stopped with SIGINT (Ray shuts down cleanly), then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServeProcess:
    """`with ServeProcess(["--replicas", "2"]) as server: server.url` (http://127.0.0.1:PORT/v1)."""

    def __init__(self, args: list[str], port: int = 0, ready_timeout_s: float = 600.0, log_path: str | None = None,
                 env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.args = ["--host", "127.0.0.1", "--port", str(self.port), *args]
        self.ready_timeout_s = ready_timeout_s
        self.log_path = Path(log_path) if log_path else None
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})}
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/v1"
        self.proc: subprocess.Popen | None = None
        self.startup_s = 0.0

    def __enter__(self) -> ServeProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        log = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL  # noqa: SIM115 - closed by Popen
        t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "vlm_ros.cli", "serve", *self.args], stdout=log,
                                     stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = t0 + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vlm-ros serve exited with {self.proc.returncode} before it was ready"
                                   + (f"; log: {self.log_path}" if self.log_path else ""))
            try:
                if httpx.get(self.base + "/health", timeout=2.0, trust_env=False).status_code == 200:
                    self.startup_s = time.monotonic() - t0
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"vlm-ros serve was not healthy within {self.ready_timeout_s:.0f} s")

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        started = self.pids()  # Ray's workers have process groups of their own
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout_s)
        with contextlib.suppress(ProcessLookupError):  # Ray's own children (raylet, agents) share the group
            os.killpg(pgid, signal.SIGKILL)
        for pid in started:  # workers left behind by an unclean shutdown (still ours: same venv, same command)
            with contextlib.suppress(OSError):
                if sys.prefix in Path(f"/proc/{pid}/cmdline").read_text():
                    os.kill(pid, signal.SIGKILL)
        self.proc.wait(5)

    def pids(self) -> list[int]:
        """The server's processes: the driver and every descendant (Ray's GCS, raylet, proxy,
        controller, replicas), and anything left in its process group."""
        if self.proc is None:
            return []
        parents: dict[int, int] = {}
        groups: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)], groups[int(entry.name)] = int(fields[1]), int(fields[2])
        root = self.proc.pid
        found = {pid for pid, group in groups.items() if group == root} | {root}
        grew = True
        while grew:
            more = {pid for pid, parent in parents.items() if parent in found} - found
            found |= more
            grew = bool(more)
        return sorted(pid for pid in found if pid in parents)
