"""`vlm-ros bench`: full episodes through the ROS graph, scored by the simulator.

Per episode: reset_scene (task, seed, template) → execute action on the grounding node,
with not_before = the reset's frame stamp, so the plan is grounded on the new scene →
execute_plan in the sim → check_task. Nothing is shortcut in-process.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vlm_ros.bench.client import GraphClient, stamp_of
from vlm_ros.core.errors import VlmRosError


@dataclass
class EpisodeResult:
    seed: int
    instruction: str
    success: bool
    reason: str
    plan_status: str
    plan: str  # the raw program the grounder produced
    latency_ms: float  # instruction → plan, inside the grounding node
    wall_s: float  # reset to judged
    attempts: int = 0  # plans executed for the instruction (closed loop)
    verified: bool | None = None  # the node's own verdict after execution; None: not checked


@dataclass
class BenchReport:
    task: str
    grounder: str
    episodes: int
    success_rate: float
    latency_ms: dict[str, float]
    episode_wall_s: dict[str, float]
    results: list[EpisodeResult] = field(default_factory=list)
    templates: str | None = None
    closed_loop: dict | None = None  # faults, max_attempts, verify and the verifier's agreement with the sim

    def to_json(self) -> dict:
        return asdict(self)


def load_templates(path: str | None) -> list[str]:
    """One template per line; blank lines and #comments skipped. Placeholders: {pick} {place} ..."""
    if not path:
        return []
    templates = [line.strip() for line in Path(path).read_text().splitlines()]
    templates = [t for t in templates if t and not t.startswith("#")]
    if not templates:
        raise VlmRosError(f"{path} has no templates (one per line, e.g. 'drop the {{pick}} into the {{place}}')")
    for template in templates:
        try:
            template.format(pick="red block", place="green bowl", pick_color="red", place_color="green")
        except (KeyError, IndexError) as error:
            raise VlmRosError(f"template {template!r} in {path} uses an unknown placeholder {error}") from None
    return templates


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan")}
    return {"p50": round(float(np.percentile(values, 50)), 3), "p95": round(float(np.percentile(values, 95)), 3)}


def run_episode(client: GraphClient, task: str, seed: int, template: str = "") -> EpisodeResult:
    start = time.monotonic()
    scene = client.reset_scene(task, seed, template)
    outcome = client.say(scene.instruction, not_before=stamp_of(scene))
    success, reason = client.check_task()
    if not success and outcome.plan.status.value != "OK":
        reason = f"plan {outcome.plan.status.value}: {outcome.plan.message}"
    elif not success and not outcome.success:
        reason = f"{reason} (executor: {outcome.message})"
    return EpisodeResult(seed=seed, instruction=scene.instruction, success=success, reason=reason,
                         plan_status=outcome.plan.status.value, plan=outcome.plan.raw_output,
                         latency_ms=round(outcome.plan.latency_ms.get("total", float("nan")), 2),
                         wall_s=round(time.monotonic() - start, 3), attempts=outcome.attempts,
                         verified=outcome.verified)


def run_bench(client: GraphClient, task: str, episodes: int, seed: int, grounder: str,
              templates: list[str] | None = None, progress: bool = True) -> BenchReport:
    results = []
    bar = tqdm(range(episodes), desc=task, disable=not progress, unit="ep")
    for index in bar:
        template = templates[index % len(templates)] if templates else ""
        results.append(run_episode(client, task, seed + index, template))
        bar.set_postfix(success=f"{np.mean([r.success for r in results]):.2f}")
    return BenchReport(
        task=task, grounder=grounder, episodes=episodes,
        success_rate=round(float(np.mean([r.success for r in results])), 4) if results else 0.0,
        latency_ms=percentiles([r.latency_ms for r in results if np.isfinite(r.latency_ms)]),
        episode_wall_s=percentiles([r.wall_s for r in results]), results=results)
