"""`vlm-ros soak` end to end in miniature: a node process, a camera stream, requests, figures from /proc."""

from __future__ import annotations

import pytest

from vlm_ros.bench.soak import run_soak, slope_per_min

pytestmark = pytest.mark.ros


def test_slope_is_least_squares_in_kb_per_minute():
    assert slope_per_min([(0.0, 1000), (60.0, 1100), (120.0, 1200)]) == pytest.approx(100.0)
    assert slope_per_min([(0.0, 5)]) == 0.0


def test_short_soak_reports_every_figure(tmp_path):
    report = run_soak(minutes=0.25, width=64, height=48, rate_hz=10.0, warmup_s=3.0, idle_s=3.0,
                      sample_period_s=1.0, hostile_frames=2, node_log=str(tmp_path / "node.log"), log=print)
    assert report.node_alive, (tmp_path / "node.log").read_text()[-2000:]
    assert report.requests >= 10 and report.failed == 0, report.failures
    assert len(report.rss_samples) >= 10 and all(kb > 10_000 for _, kb in report.rss_samples)
    assert len(report.idle_cpu_percent) == 2 and all(0.0 <= c < 100.0 for c in report.idle_cpu_percent)
    assert report.published_hz > 3.0 and report.hostile_frames == 2
    assert "RSS" in report.summary() and "idle ingest CPU" in report.summary()
