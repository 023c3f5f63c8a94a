"""`vlm-ros eval-grounding`: ground held-out sim episodes and report accuracy, point error, latency."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval-grounding", help="evaluate a grounding model on held-out sim episodes",
                              description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=500, help="number of episodes (tasks in rotation)")
    p.add_argument("--seed", type=int, default=500_000, help="first episode seed (training uses 10,000,000+)")
    p.add_argument("--templates", default=None,
                   help="template FILE or directory of <task>.txt (default: the bench's own templates); "
                        "'train' or 'heldout' name the packaged phrasing splits")
    p.add_argument("--synonyms", action="store_true", help="say cube/box/dish/container for block/bowl at random")
    p.add_argument("--model", default=None, help="model directory (default: the shipped tabletop-tiny)")
    p.add_argument("--backend", default="torch")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--width", type=int, default=640, help="render width [px] (e.g. 848 for a 16:9 camera)")
    p.add_argument("--height", type=int, default=480, help="render height [px]; the vertical field of view is fixed")
    p.add_argument("--preprocess", default=None, choices=["auto", "crop", "letterbox", "stretch"],
                   help="override the model's aspect fitting (default: its processor's, auto)")
    p.add_argument("--shift", action="append", default=None, metavar="NAME",
                   help="evaluate in a shifted cell (repeatable): a name from vlm_ros.training.shifts "
                        "(camera-jitter, fov-55, side, overhead, arm-in-view, light-*, table-*, edge-*), "
                        "'table' for the robustness table's shifts, or 'all'; --episodes per shift")
    p.add_argument("--json", default=None, help="write the summary here")
    p.add_argument("--details", default=None, help="write one JSON line per episode here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import os
    from dataclasses import asdict
    from pathlib import Path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from vlm_ros.models import DEFAULT_WEIGHTS_PATH, load_grounder
    from vlm_ros.training.evaluate import evaluate_grounder
    from vlm_ros.training.grammar import TEMPLATE_DIR

    if args.threads:
        torch.set_num_threads(args.threads)
    templates = args.templates
    if templates in ("train", "heldout"):
        templates = TEMPLATE_DIR / templates
    grounder = load_grounder(args.model or DEFAULT_WEIGHTS_PATH, backend=args.backend, device=args.device)
    if args.preprocess:
        grounder.processor.config.aspect_mode = args.preprocess
    if args.shift:
        return run_shifts(args, grounder, templates)
    summary, results = evaluate_grounder(grounder, args.episodes, args.seed, templates, synonyms=args.synonyms,
                                         width=args.width, height=args.height)
    summary["render"] = f"{args.width}x{args.height}"
    summary["preprocess"] = grounder.processor.describe(args.width, args.height)
    summary["model"] = grounder.model_id
    summary["templates"] = str(templates) if templates else "bench"
    summary["synonyms"] = args.synonyms
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.details:
        with Path(args.details).open("w") as f:
            for r in results:
                f.write(json.dumps(asdict(r)) + "\n")
    return 0


def shift_table(summaries: dict[str, dict]) -> str:
    """A markdown table: shift | correct object | median / p90 point error | refusal accuracy | in view."""
    def cm(v):
        return "-" if v is None else f"{v:.2f}"

    lines = ["| shift | correct object | point error median / p90 [cm] | refusal accuracy | in view |",
             "|---|---|---|---|---|"]
    for name, s in summaries.items():
        e = s["point_error_cm"]
        lines.append(f"| {name} | {s['correct_object_rate']:.1%} | {cm(e['median'])} / {cm(e['p90'])} | "
                     f"{s['refusal_accuracy']:.1%} | {s['in_view_rate']:.0%} |")
    return "\n".join(lines)


def run_shifts(args: argparse.Namespace, grounder, templates) -> int:
    """--shift: the same episodes (seeds) in every named cell, one summary per shift."""
    import json
    from dataclasses import asdict
    from pathlib import Path

    from vlm_ros.training.evaluate import evaluate_grounder
    from vlm_ros.training.shifts import SHIFTS, resolve

    try:
        names = resolve(args.shift)
    except ValueError as error:
        print(f"error: {error}")
        return 2
    summaries, details = {}, []
    for name in names:
        summary, results = evaluate_grounder(grounder, args.episodes, args.seed, templates, synonyms=args.synonyms,
                                             shift=SHIFTS[name], desc=name)
        summaries[name] = summary
        details += [{"shift": name, **asdict(r)} for r in results]
        print(f"{name}: correct object {summary['correct_object_rate']:.1%}, refusal accuracy "
              f"{summary['refusal_accuracy']:.1%}", flush=True)
        out = {"model": grounder.model_id, "episodes_per_shift": args.episodes, "seed": args.seed,
               "shifts": summaries}
        if args.json:  # after every shift, so a long run's finished shifts are kept
            Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    print(shift_table(summaries))
    if args.details:
        with Path(args.details).open("w") as f:
            for row in details:
                f.write(json.dumps(row) + "\n")
    return 0
