"""Issue 11 point 5, short form: hostile inputs through a real grounding_node process.

One case per class of input (images, depth, camera_info, camera_pose, stamps, instructions, cancels, floods,
model outputs, service fields, action goals, executor faults), each with the status a correct
node answers. `vlm-ros fuzz` runs the full list (vlm_ros/qa/hostile_cases.py).
"""

from __future__ import annotations

import os

import pytest

from vlm_ros.qa.hostile_cases import CASES, SHORT
from vlm_ros.qa.suite import run_suite

pytestmark = pytest.mark.ros


@pytest.fixture(scope="module")
def rclpy_context():
    import rclpy

    rclpy.init()
    yield
    rclpy.shutdown()


def test_the_suite_covers_every_class_with_enough_distinct_inputs():
    assert len({c.name for c in CASES}) == len(CASES) >= 60
    classes = {c.category for c in CASES}
    assert classes >= {"image", "depth", "camera_info", "camera_pose", "stamp", "instruction", "model output",
                       "service field", "action goal", "executor fault", "cancel", "flood"}
    assert {c.category for c in SHORT} == classes
    assert {c.expect for c in SHORT} == {"OK", "REFUSED", "ERROR", "CANCELED", "ABORTED"}


def test_short_hostile_suite_through_the_graph(rclpy_context, tmp_path):
    log = tmp_path / "grounding_node.log"
    report = run_suite(SHORT, namespace=f"/hostile_{os.getpid()}", log_path=str(log))
    details = "\n".join(report.deaths + report.wrong + report.unanswered)
    assert report.tried == len(SHORT)
    assert not report.deaths, f"node died after: {report.deaths}\n{log.read_text()[-3000:]}"
    assert not report.unanswered and not report.wrong, details
