"""Run hostile-input cases against a grounding_node process and count what went wrong.

Findings, per case: the node died (it is restarted and the run goes on), the answer had
another status than the case expects (or lacked the words that say why), or no answer came.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import rclpy

from vlm_ros.geometry.transforms import matrix_to_pose
from vlm_ros.qa.case_builders import Case, Outcome
from vlm_ros.qa.graph_harness import GOOD_PROGRAM, NODE_PARAMETERS, NodeProcess, QaClient, good_pose
from vlm_ros.qa.model_outputs import downward_camera


@dataclass
class SuiteReport:
    tried: int = 0
    deaths: list[str] = field(default_factory=list)  # cases after which the node process had exited
    wrong: list[str] = field(default_factory=list)  # "case: expected X, got Y (message)"
    unanswered: list[str] = field(default_factory=list)
    results: list[tuple[Case, Outcome, float]] = field(default_factory=list)  # (case, outcome, seconds)
    seconds: float = 0.0

    @property
    def findings(self) -> int:
        return len(self.deaths) + len(self.wrong) + len(self.unanswered)

    def summary(self) -> str:
        return (f"inputs tried: {self.tried}, node deaths: {len(self.deaths)}, wrong statuses: {len(self.wrong)}, "
                f"unanswered requests: {len(self.unanswered)} ({self.seconds:.0f} s)")


def node_parameters(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**NODE_PARAMETERS, "camera_to_base": matrix_to_pose(downward_camera()), **(extra or {})}


def _start(node: NodeProcess, client: QaClient, timeout: float) -> None:
    node.start()
    if not client.wait_for_node(timeout):
        raise RuntimeError(f"grounding_node in {node.namespace} did not offer `ground` within {timeout:.0f} s "
                           f"(log: {node.log_path or 'not kept'})")
    client.set_pose(good_pose())
    client.set_program(GOOD_PROGRAM)
    time.sleep(0.3)


def run_suite(cases: list[Case], namespace: str = "/vlm_ros_qa", answer_timeout: float = 15.0,
              log_path: str | None = None, on_result: Callable[[Case, Outcome, float], None] | None = None,
              parameters: dict[str, Any] | None = None) -> SuiteReport:
    """Start a node, run `cases` in order through the ROS graph, stop the node. rclpy is initialised if needed."""
    if not rclpy.ok():
        rclpy.init()
    report = SuiteReport()
    node = NodeProcess(namespace, node_parameters(parameters), log_path)
    client = QaClient(namespace)
    start = time.monotonic()
    try:
        _start(node, client, 60.0)
        for case in cases:
            t0 = time.monotonic()
            try:
                outcome = case.act(client, answer_timeout)
            except Exception as error:  # a harness fault is reported as a finding, never hidden
                outcome = Outcome("HARNESS ERROR", problem=repr(error))
            seconds = time.monotonic() - t0
            report.tried += 1
            report.results.append((case, outcome, seconds))
            if not node.alive():
                report.deaths.append(case.name)
                _start(node, client, 60.0)
            if outcome.status == "UNANSWERED":
                report.unanswered.append(f"{case.name}: {outcome.message or 'no answer'}")
            elif outcome.status != case.expect or outcome.problem:
                report.wrong.append(f"{case.name}: expected {case.expect}, got {outcome.status}"
                                    f"{' - ' + outcome.problem if outcome.problem else ''} ({outcome.message[:120]})")
            if on_result is not None:
                on_result(case, outcome, seconds)
    finally:
        report.seconds = time.monotonic() - start
        client.close()
        node.stop()
    return report
