"""Full episodes through the real ROS graph (sim_bridge + grounding_node as launched subprocesses).

The oracle grounder isolates everything except the model: camera topics, depth
projection, validation, the execute → execute_plan chain and the sim's task checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from vlm_ros.bench.graph import sim_graph
from vlm_ros.bench.runner import load_templates, run_bench
from vlm_ros.sim.tasks import TASKS

pytestmark = [pytest.mark.ros, pytest.mark.sim]


@pytest.fixture(scope="module")
def oracle_graph():
    with sim_graph(backend="oracle", seed=424242) as client:
        yield client


@pytest.mark.parametrize("task", list(TASKS))
def test_oracle_episodes_succeed_through_the_graph(oracle_graph, task):
    report = run_bench(oracle_graph, task, episodes=3, seed=31337, grounder="oracle", progress=False)
    assert report.success_rate == 1.0, [(r.seed, r.instruction, r.reason) for r in report.results]
    expected = "REFUSED" if TASKS[task].expects_refusal else "OK"
    assert {r.plan_status for r in report.results} == {expected}
    assert all(r.wall_s > 0 for r in report.results)


def test_templates_change_the_instruction(oracle_graph, tmp_path):
    path = tmp_path / "templates.txt"
    path.write_text("# a phrasing the model never saw\nkindly relocate the {pick} into the {place}\n")
    report = run_bench(oracle_graph, "put-block-in-bowl", 2, 7, "oracle", load_templates(str(path)), progress=False)
    assert all(r.instruction.startswith("kindly relocate the ") for r in report.results)
    assert report.success_rate == 1.0


def test_bad_templates_file_is_a_clear_error(tmp_path):
    from vlm_ros.core.errors import VlmRosError

    path = tmp_path / "t.txt"
    path.write_text("move the {thing}\n")
    with pytest.raises(VlmRosError, match="unknown placeholder"):
        load_templates(str(path))


def test_say_cli_talks_to_a_running_graph(oracle_graph):
    scene = oracle_graph.reset_scene("put-block-in-bowl", 5)
    time.sleep(1.0)  # `say` grounds on the latest frame: let the camera (5 Hz) show the new scene
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-m", "vlm_ros.cli", "say", "--dry-run", scene.instruction],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[OK]" in result.stdout and "pick(" in result.stdout
