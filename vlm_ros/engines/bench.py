"""Side-by-side latency of grounder backends on the same rendered scenes, in one process.

Backends take turns scene by scene (the order rotates), so a busy machine slows them alike
rather than whichever happened to run during a spike. Each call is timed exactly as
`ground()` times it (preprocess, vision, prefill, decode; total is the wall time of the call),
leaving out only the final text parse, so that untrained models, whose output may not parse,
can be timed too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

STAGES = ("preprocess", "vision", "prefill", "decode", "total")


@dataclass
class BackendTimes:
    name: str
    stages: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    decoded: list = field(default_factory=list)  # DecodedProgram per scene
    points: list = field(default_factory=list)  # [L, 2] frame points per scene

    def summary(self) -> dict[str, dict[str, float]]:
        return {f"{s}_ms": {"p50": round(float(np.percentile(v, 50)), 2), "p95": round(float(np.percentile(v, 95)), 2)}
                for s, v in self.stages.items() if v}


def time_one(grounder, rgb: np.ndarray, instruction: str) -> tuple[dict[str, float], object]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    decoded, _ = grounder.decode_checked(rgb, instruction, timings)  # as ground() decodes, overrule included
    total = (time.perf_counter() - start) * 1e3
    timings["preprocess"] = max(total - sum(timings.values()), 0.0)
    timings["total"] = total
    return timings, decoded


def bench(grounders: dict[str, object], scenes: list, warmup: list = (), progress: bool = True) -> dict:
    """grounders: name -> Grounder with `decode_checked(rgb, instruction, timings)`; `warmup` scenes run
    first, unmeasured (first calls allocate and tune). Returns the JSON dict."""
    from tqdm import tqdm

    from vlm_ros.engines.plans import POINT_ATOL, frame_points, plan_difference

    names = list(grounders)
    results = {name: BackendTimes(name) for name in names}
    for scene in warmup:
        for name in names:
            time_one(grounders[name], scene.rgb, scene.instruction)
    for i, scene in enumerate(tqdm(scenes, desc="bench", unit="scene", disable=not progress)):
        order = names[i % len(names):] + names[: i % len(names)]
        for name in order:
            timings, decoded = time_one(grounders[name], scene.rgb, scene.instruction)
            for stage in STAGES:
                results[name].stages[stage].append(timings[stage])
            results[name].decoded.append(decoded)
            results[name].points.append(frame_points(grounders[name], decoded, scene.rgb.shape[1], scene.rgb.shape[0]))
    base = results[names[0]]

    def differing(r: BackendTimes) -> int:
        pairs = zip(base.decoded, r.decoded, base.points, r.points)
        return sum(plan_difference(a, b, pa, pb) > POINT_ATOL for a, b, pa, pb in pairs)

    counts = {name: differing(r) for name, r in results.items()}
    return {
        "backends": {name: r.summary() | {"mean_program_tokens": round(float(np.mean([len(d.token_ids)
                                                                                       for d in r.decoded])), 1)}
                     for name, r in results.items()},
        "same_plans": not any(counts.values()),
        "plans_differing": counts,
    }


def format_table(result: dict) -> str:
    """Markdown table: one row per backend, p50 / p95 per stage in ms, and the speed-up on total."""
    names = list(result["backends"])
    base = result["backends"][names[0]]["total_ms"]["p50"]
    lines = ["| backend | " + " | ".join(f"{s} p50 / p95 [ms]" for s in STAGES) + f" | total p50 vs {names[0]} |",
             "|---|" + "---|" * (len(STAGES) + 1)]
    for name in names:
        row = result["backends"][name]
        cells = [f"{row[f'{s}_ms']['p50']:.1f} / {row[f'{s}_ms']['p95']:.1f}" for s in STAGES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {base / row['total_ms']['p50']:.2f}x |")
    return "\n".join(lines)
