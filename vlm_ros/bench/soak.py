"""Soak: grounding_node under a steady camera stream and a request per second, watched from /proc.

The node runs as its own process (`vlm-ros node --ros-args ...`) so its RSS and CPU time are
its own. This process plays camera and user: 640x480 RGB-D at 30 Hz (messages built once,
only stamps change, so the publisher costs little) and one `ground` request per second.
Figures: RSS slope after warm-up (kB/min, least squares over samples), failed requests,
and idle ingest CPU (% of one core while the camera streams and no request runs).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np


def png_bomb(side: int) -> bytes:
    """A valid greyscale PNG of side x side zeros: a few hundred kB that decode to side² bytes per channel."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor, row = zlib.compressobj(9), b"\x00" * (side + 1)  # filter byte + pixels
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


PROGRAM = "pick(red block) @ ({u}, {v}) ; place(left side) @ (10, 10)"  # the image centre, then a named place
CAMERA_DOWN = [0.5, 0.0, 0.8, 0.7071067811865476, -0.7071067811865476, 0.0, 0.0]  # x y z qx qy qz qw
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class SoakReport:
    minutes: float
    width: int
    height: int
    rate_hz: float
    backend: str
    published_hz: float = 0.0
    requests: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    rss_slope_kb_per_min: float = 0.0
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (s since start, kB)
    idle_cpu_percent: list[float] = field(default_factory=list)  # one per idle window
    hostile_frames: int = 0  # huge frames and decompression bombs sent after warm-up
    rss_after_hostile_kb: int = 0  # RSS change 10 s after them, normal frames flowing again [kB]
    node_alive: bool = True

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        idle = ", ".join(f"{c:.1f}" for c in self.idle_cpu_percent)
        return (f"soak {self.minutes:g} min, {self.width}x{self.height} RGB-D at {self.rate_hz:g} Hz "
                f"(published {self.published_hz:.1f} Hz), backend {self.backend}\n"
                f"requests: {self.requests} sent, {self.failed} failed; node alive: {self.node_alive}\n"
                f"RSS: {self.rss_start_kb / 1024:.1f} MB after warm-up → {self.rss_end_kb / 1024:.1f} MB; "
                f"slope {self.rss_slope_kb_per_min:+.1f} kB/min (bar < 50)\n"
                f"idle ingest CPU: {idle} % of a core (bar < 5)\n"
                f"after {self.hostile_frames} huge/hostile frames: RSS {self.rss_after_hostile_kb / 1024:+.1f} MB")


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rss_parts_kb(pid: int) -> dict[str, int]:
    """RssAnon (heap, our buffers), RssFile, RssShmem (DDS shared-memory segments) [kB]."""
    parts = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                parts[line.split(":")[0]] = int(line.split()[1])
    return parts


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all threads) [s]."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def slope_per_min(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 2:
        return 0.0
    t, kb = np.array(samples, dtype=float).T
    return float(np.polyfit(t / 60.0, kb, 1)[0])


def start_node(namespace: str, backend: str, extra: list[str], log_path: str, width: int,
               height: int) -> subprocess.Popen:
    params = {"backend": backend, "test_program": PROGRAM.format(u=width // 2, v=height // 2),
              "camera_to_base": str(CAMERA_DOWN),
              "execute_plan_action": "''", "max_frame_age_s": "2.0", "frame_wait_s": "5.0"}
    args = [sys.executable, "-m", "vlm_ros.cli", "node", "--ros-args", "-r", f"__ns:={namespace}"]
    for name, value in params.items():
        args += ["-p", f"{name}:={value}"]
    with open(log_path, "w") as log:  # a file, not a pipe: an unread pipe would block the node's logging
        return subprocess.Popen(args + extra, stdout=log, stderr=subprocess.STDOUT)


class CameraAndCaller:
    """Publishes the RGB-D stream on a timer and calls `ground`; runs its own executor thread."""

    def __init__(self, namespace: str, width: int, height: int, rate_hz: float):
        from rclpy.node import Node
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CameraInfo, Image

        from vlm_ros.ros.image_conversion import numpy_to_image
        from vlm_ros.ros.spin import BackgroundSpin
        from vlm_ros_interfaces.srv import GroundInstruction

        self.node = Node("soak_camera_and_caller", namespace=namespace)
        self.image = numpy_to_image(np.full((height, width, 3), 120, np.uint8), "rgb8")
        self.depth = numpy_to_image(np.full((height, width), 0.8, np.float32), "32FC1")
        fx = 0.9 * width
        self.info = CameraInfo(width=width, height=height, distortion_model="plumb_bob", d=[0.0] * 5,
                               k=[fx, 0.0, width / 2, 0.0, fx, height / 2, 0.0, 0.0, 1.0],
                               p=[fx, 0.0, width / 2, 0.0, 0.0, fx, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0])
        for msg in (self.image, self.depth, self.info):
            msg.header.frame_id = "camera_color_optical_frame"
        self.pubs = [self.node.create_publisher(kind, topic, qos_profile_sensor_data)
                     for kind, topic in ((Image, "image"), (Image, "depth"), (CameraInfo, "camera_info"))]
        self.client = self.node.create_client(GroundInstruction, "ground")
        self.request_type = GroundInstruction.Request
        self.published = 0
        self.node.create_timer(1.0 / rate_hz, self._publish)
        self.spin = BackgroundSpin(self.node, threads=2)

    def publish_hostile(self, count: int) -> None:
        """Huge frames within max_image_bytes (3000x2500 RGB-D) and over it (6000x5000 RGB, 90 MB)."""
        from vlm_ros.ros.image_conversion import numpy_to_image

        frames = [(numpy_to_image(np.zeros((2500, 3000, 3), np.uint8), "rgb8"),
                   numpy_to_image(np.zeros((2500, 3000), np.float32), "32FC1")),
                  (numpy_to_image(np.zeros((5000, 6000, 3), np.uint8), "rgb8"), None)]
        for i in range(count):
            image, depth = frames[i % 2]
            stamp = self.node.get_clock().now().to_msg()
            for pub, msg in ((self.pubs[0], image), (self.pubs[1], depth)):
                if msg is not None:
                    msg.header.stamp = stamp
                    pub.publish(msg)
            time.sleep(0.1)

    def _publish(self) -> None:
        stamp = self.node.get_clock().now().to_msg()
        for pub, msg in zip(self.pubs, (self.image, self.depth, self.info)):
            msg.header.stamp = stamp
            pub.publish(msg)
        self.published += 1

    def ground(self, timeout_s: float = 10.0) -> str:
        """'' when the request came back OK, else what went wrong."""
        future = self.client.call_async(self.request_type(instruction="put the red block on the left side"))
        deadline = time.monotonic() + timeout_s
        while not future.done():
            if time.monotonic() > deadline:
                return "no answer within 10 s"
            time.sleep(0.005)
        plan = future.result().plan
        return "" if plan.status == 0 else f"status {plan.status}: {plan.message}"

    def close(self) -> None:
        self.spin.stop()
        self.node.destroy_node()


def run_soak(minutes: float, width: int = 640, height: int = 480, rate_hz: float = 30.0,
             request_period_s: float = 1.0, warmup_s: float = 60.0, idle_s: float = 30.0,
             sample_period_s: float = 5.0, backend: str = "test-fixed", node_args: list[str] | None = None,
             node_log: str = "/tmp/vlm_ros_soak_node.log", hostile_frames: int = 20, log=print) -> SoakReport:
    import rclpy

    from vlm_ros.bench.graph import loopback_only

    loopback_only()
    namespace = f"/soak{os.getpid()}"
    report = SoakReport(minutes, width, height, rate_hz, backend)
    process = start_node(namespace, backend, node_args or [], node_log, width, height)
    rclpy.init()
    user = CameraAndCaller(namespace, width, height, rate_hz)
    try:
        if not user.client.wait_for_service(timeout_sec=120.0):
            raise RuntimeError(f"grounding_node never came up: {process.poll()}")

        def idle_window() -> None:
            cpu0, t0 = cpu_seconds(process.pid), time.monotonic()
            time.sleep(idle_s)
            report.idle_cpu_percent.append(100.0 * (cpu_seconds(process.pid) - cpu0) / (time.monotonic() - t0))
            log(f"idle ingest: {report.idle_cpu_percent[-1]:.1f} % of a core")

        def requests_for(seconds: float, sample: bool, count: bool = True) -> None:
            start = time.monotonic()
            next_sample = start
            while time.monotonic() - start < seconds:
                tick = time.monotonic()
                failure = user.ground()
                report.requests += count
                if failure and count:
                    report.failed += 1
                    report.failures = [*report.failures, failure][-20:]
                if sample and tick >= next_sample:
                    report.rss_samples.append((round(tick - t_start, 1), rss_kb(process.pid)))
                    next_sample += sample_period_s
                time.sleep(max(0.0, request_period_s - (time.monotonic() - tick)))

        t_start = time.monotonic()
        requests_for(warmup_s, sample=False)
        log(f"warm-up done ({warmup_s:.0f} s), RSS {rss_kb(process.pid) / 1024:.1f} MB")
        if hostile_frames:
            before, parts = rss_kb(process.pid), rss_parts_kb(process.pid)
            user.publish_hostile(hostile_frames)
            # normal frames push them out of the cache; a request may still meet one (not counted)
            requests_for(10.0, sample=False, count=False)
            report.hostile_frames, report.rss_after_hostile_kb = hostile_frames, rss_kb(process.pid) - before
            log(f"after {hostile_frames} huge/hostile frames: RSS {report.rss_after_hostile_kb / 1024:+.1f} MB "
                f"({parts} → {rss_parts_kb(process.pid)})")
        idle_window()
        published0, t_pub = user.published, time.monotonic()
        requests_for(minutes * 60.0, sample=True)
        report.published_hz = (user.published - published0) / (time.monotonic() - t_pub)
        idle_window()
        report.rss_start_kb, report.rss_end_kb = report.rss_samples[0][1], report.rss_samples[-1][1]
        report.rss_slope_kb_per_min = slope_per_min(report.rss_samples)
        report.node_alive = process.poll() is None
    finally:
        user.close()
        rclpy.try_shutdown()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return report
