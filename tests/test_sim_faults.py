"""Injected faults in the real PyBullet cell: each one happens, is reported as a real arm would, and repeats by seed."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.sim.executor import Executor
from vlm_ros.sim.faults import FaultConfig, FaultInjector
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.tasks import TASKS

pytestmark = pytest.mark.sim
TASK = TASKS["put-block-in-bowl"]


@pytest.fixture(scope="module")
def sim():
    with TabletopSim(width=160, height=120) as s:
        yield s


def run(sim: TabletopSim, config: FaultConfig, seed: int = 11, plans: int = 1):
    """Sample a put-block-in-bowl scene, execute the oracle plan `plans` times; (episode, results, injector)."""
    faults = FaultInjector(config)
    executor = Executor(sim, faults=faults)
    episode = TASK.sample(sim, seed)
    faults.reset(seed)
    results = []
    for _ in range(plans):
        _, plan = oracle_plan(sim, episode)
        results.append(executor.execute(plan))
    return episode, results, faults


def block(sim, episode):
    return sim.object_by_body(episode.pick_ids[0])


def test_no_faults_is_the_perfect_arm(sim):
    episode, (result,), faults = run(sim, FaultConfig())
    assert result.success and TASK.check(sim, episode, result and oracle_plan(sim, episode)[1].status)[0]
    assert faults.log == []


def test_slip_drops_the_block_on_the_way_and_the_executor_notices(sim):
    episode, (result,), faults = run(sim, FaultConfig(slip=1.0))
    assert not result.success
    assert [(r.index, r.success, r.reason) for r in result.results] == [(0, True, ""), (1, False, "dropped")]
    assert faults.log == ["slip"]
    obj = block(sim, episode)
    assert obj.position()[2] < 0.03  # back on the table
    moved = np.linalg.norm(obj.position()[:2] - np.array(episode.start[obj.body_id][:2]))
    assert moved > 0.02 and not TASK._judge(sim, episode)[0]


def test_missed_pick_leaves_the_block_where_it_was(sim):
    episode, (result,), faults = run(sim, FaultConfig(miss_pick=1.0))
    assert [(r.index, r.success, r.reason) for r in result.results] == [(0, False, "nothing grasped")]
    obj = block(sim, episode)
    assert np.linalg.norm(obj.position()[:2] - np.array(episode.start[obj.body_id][:2])) < 0.01
    assert faults.log == ["miss_pick"]


def test_nudge_moves_the_placed_block_after_the_step_succeeded(sim):
    episode, (result,), faults = run(sim, FaultConfig(nudge=1.0, nudge_distance=0.10))
    assert result.success  # the executor cannot know
    assert faults.log == ["nudge 10 cm"]
    assert not TASK._judge(sim, episode)[0]  # but the block is no longer in the bowl


def test_placement_noise_is_seeded(sim):
    config = FaultConfig(place_noise=0.015)
    ends = []
    for seed in (21, 21, 22):
        episode, (result,), faults = run(sim, config, seed=seed)
        assert result.success and faults.log[0].startswith("place_noise")
        ends.append((faults.log[0], block(sim, episode).position()))
    assert ends[0][0] == ends[1][0] != ends[2][0]  # same seed, same offset; another seed, another
    assert np.allclose(ends[0][1], ends[1][1], atol=2e-3)


def test_faults_hit_only_the_first_plans_when_asked(sim):
    episode, results, faults = run(sim, FaultConfig(slip=1.0, plans=1), plans=2)
    assert [r.success for r in results] == [False, True]
    assert faults.log == ["slip"]
    assert TASK._judge(sim, episode)[0]


def test_draws_repeat_by_seed_and_do_not_shift_with_other_faults():
    a, b = FaultInjector(FaultConfig(slip=0.5)), FaultInjector(FaultConfig(slip=0.5, miss_pick=0.0))
    for injector in (a, b):
        injector.reset(5)
        injector.start_plan()
    start, goal = np.array([0.4, 0.2, 0.15]), np.array([0.5, -0.2, 0.15])
    draws = [[None if (q := i.slip_point(start, goal)) is None else tuple(q) for _ in range(20)] for i in (a, b)]
    assert draws[0] == draws[1]
    assert 3 < sum(d is not None for d in draws[0]) < 17
    assert all(np.hypot(*(np.array(d[:2]) - goal[:2])) >= 0.12 - 1e-9 for d in draws[0] if d is not None)


@pytest.mark.parametrize("text,message", [
    ("slip=2", "probability"), ("wobble=1", "NAME=VALUE"), ("slip", "NAME=VALUE"), ("slip=x", "not a number"),
    ("place_noise=-1", "negative")])
def test_bad_fault_specs_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        FaultConfig.parse(text)


def test_fault_spec_round_trip():
    config = FaultConfig.parse("slip=0.2, place_noise=0.01,nudge=0.1,miss_pick=0.05,plans=1")
    assert config == FaultConfig(slip=0.2, place_noise=0.01, nudge=0.1, miss_pick=0.05, plans=1)
    assert FaultConfig.parse(config.to_text()) == config and config.active and not FaultConfig().active
