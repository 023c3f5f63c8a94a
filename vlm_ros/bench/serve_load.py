"""Fleet load on one `vlm-ros serve`: K simulated robots, each grounding its own frames.

Each robot is a process running the real `remote` backend client (JPEG encoding, HTTP,
parsing), sending its next frame as soon as the previous plan is back, for a bounded time and
count. The server's CPU (seconds used / wall seconds, summed over its process group: driver,
Ray, proxy, replicas) and memory (PSS, so shared pages count once) are sampled meanwhile.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vlm_ros.remote.client import RemoteConfig, RemoteGrounder

CLK_TCK = 100  # os.sysconf("SC_CLK_TCK") on Linux


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class ServerSampler:
    """CPU and memory of a set of processes, sampled every `period_s` in a thread."""

    def __init__(self, pids_fn, period_s: float = 0.5):
        self.pids_fn, self.period_s = pids_fn, period_s
        self.mem_mb: list[float] = []
        self._stop = threading.Event()
        self._cpu0 = self._cpu1 = 0.0
        self._t0 = self._t1 = 0.0
        self._seen: dict[int, float] = {}

    def _cpu_now(self) -> float:
        for pid in self.pids_fn():
            self._seen[pid] = max(self._seen.get(pid, 0.0), _cpu_seconds(pid))
        return sum(self._seen.values())

    def __enter__(self) -> ServerSampler:
        self._cpu0, self._t0 = self._cpu_now(), time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self.mem_mb.append(sum(_pss_mb(p) for p in self.pids_fn()))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._cpu1, self._t1 = self._cpu_now(), time.monotonic()

    @property
    def cpu_percent(self) -> float:  # 100 = one core busy
        return 100.0 * (self._cpu1 - self._cpu0) / max(self._t1 - self._t0, 1e-9)


@dataclass
class LoadResult:
    clients: int
    replicas: int
    duration_s: float
    plans: int  # answered with a program (OK or refusal), i.e. served
    errors: int
    throughput_plans_s: float
    latency_ms: dict[str, float] = field(default_factory=dict)  # p50, p95, p99, mean
    server_cpu_percent: float = 0.0
    server_mem_mb: dict[str, float] = field(default_factory=dict)  # mean, max (PSS)
    error_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RobotSpec:
    url: str
    duration_s: float
    max_requests: int
    jpeg_quality: int = 90
    timeout_s: float = 30.0
    api_key_env: str = ""


def _robot(spec: RobotSpec, own: list[tuple[np.ndarray, str]], gate, stop_at, results) -> None:
    """One robot: its own client, its own frames, one request at a time until stop_at."""
    grounder = RemoteGrounder(RemoteConfig(url=spec.url, model="", timeout_s=spec.timeout_s, retries=0,
                                           jpeg_quality=spec.jpeg_quality, max_side=640,
                                           api_key_env=spec.api_key_env))
    latencies, errors = [], []
    gate.wait()
    i = 0
    while time.monotonic() < stop_at.value and i < spec.max_requests:
        rgb, instruction = own[i % len(own)]
        t0 = time.perf_counter()
        try:
            grounder.ground(rgb, instruction)
            latencies.append((time.perf_counter() - t0) * 1e3)
        except Exception as error:  # counted and reported, the robot goes on
            errors.append(f"{type(error).__name__}: {error}")
        i += 1
    grounder.close()
    results.put((latencies, errors))


def run_load(url: str, frames: list[tuple[np.ndarray, str]], clients: int, duration_s: float,
             max_requests_per_client: int = 10_000, replicas: int = 1, pids_fn=None,
             jpeg_quality: int = 90, timeout_s: float = 30.0, api_key_env: str = "") -> LoadResult:
    """K robots for duration_s; robot k sends frames k, k+K, k+2K, ... (its own), cycling.

    Each robot is a process of its own (forked: frames are shared copy-on-write), as robots are
    separate machines: one process's GIL must not be what limits the fleet."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    spec = RobotSpec(url, duration_s, max_requests_per_client, jpeg_quality, timeout_s, api_key_env)
    gate, stop_at, results = ctx.Barrier(clients + 1), ctx.Value("d", float("inf")), ctx.Queue()
    robots = [ctx.Process(target=_robot, args=(spec, frames[k % len(frames)::clients] or frames, gate, stop_at,
                                               results), daemon=True) for k in range(clients)]
    for robot in robots:
        robot.start()
    latencies: list[float] = []
    errors: list[str] = []
    sampler = ServerSampler(pids_fn or (lambda: []))
    with sampler:
        gate.wait()  # every robot is connected-ready; they start now, and stop at stop_at
        t0 = time.monotonic()
        stop_at.value = t0 + duration_s  # CLOCK_MONOTONIC is the same clock in the children
        for _ in robots:
            got_latencies, got_errors = results.get(timeout=duration_s + 2 * timeout_s + 60)
            latencies += got_latencies
            errors += got_errors
        wall = time.monotonic() - t0
    for robot in robots:
        robot.join(10)
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    return LoadResult(
        clients=clients, replicas=replicas, duration_s=round(wall, 2), plans=len(latencies), errors=len(errors),
        throughput_plans_s=round(len(latencies) / wall, 2),
        latency_ms={q: round(float(np.percentile(lat, int(q[1:]))), 1) for q in ("p50", "p95", "p99")}
        | {"mean": round(float(lat.mean()), 1)},
        server_cpu_percent=round(sampler.cpu_percent, 1),
        server_mem_mb={"mean": round(float(np.mean(sampler.mem_mb)), 1) if sampler.mem_mb else 0.0,
                       "max": round(float(np.max(sampler.mem_mb)), 1) if sampler.mem_mb else 0.0},
        error_examples=sorted(set(errors))[:3])
