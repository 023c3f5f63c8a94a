"""`vlm-ros replay`: ground a bag's instructions again, offline, and compare with the recorded plans."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("replay", help="re-ground a recorded bag offline; non-zero exit on regressions",
                              description=__doc__.splitlines()[0] + ". Exit 0: every plan matches; 1: some "
                                          "regressed; 2: the bag has no plans.")
    p.add_argument("bag", help="rosbag2 folder (MCAP or sqlite3), e.g. from vlm-ros record")
    p.add_argument("--model", default="", help="model directory (default: the shipped tabletop-tiny)")
    p.add_argument("--backend", default="auto", help="as grounding_node's backend parameter")
    p.add_argument("--device", default="cpu")
    p.add_argument("--test-program", default="", help="program of the test-fixed backend")
    p.add_argument("--params-file", default=None, help="grounding_node parameter YAML (ros__parameters)")
    p.add_argument("--tolerance", type=float, default=0.01, help="largest target difference that matches [m]")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--json", default=None, help="write the per-plan report here")
    p.set_defaults(func=run)


def load_params(path: str | None) -> dict:
    from pathlib import Path

    import yaml

    from vlm_ros.grounding.from_params import default_params

    params = default_params()
    if path:
        data = yaml.safe_load(Path(path).read_text()) or {}
        for section in data.values():  # /** or a node name
            params.update((section or {}).get("ros__parameters", {}))
    return params


def run(args: argparse.Namespace) -> int:
    import json
    import os
    from pathlib import Path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from vlm_ros.bags.replay import as_json, replay_bag, report
    from vlm_ros.geometry.transforms import pose_to_matrix
    from vlm_ros.grounding.factory import make_grounder
    from vlm_ros.grounding.from_params import apply_preprocess_mode, pipeline_config
    from vlm_ros.grounding.pipeline import GroundingPipeline

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    params = load_params(args.params_file)
    grounder = make_grounder(args.backend, args.model, args.device, args.test_program)
    apply_preprocess_mode(grounder, params["preprocess_mode"])
    pipeline = GroundingPipeline(grounder, pose_to_matrix(params["camera_to_base"]), pipeline_config(params))
    cases = replay_bag(args.bag, pipeline, params, args.tolerance)
    print(f"replayed {args.bag} with {grounder.model_id}")
    print(report(cases))
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(cases), indent=2) + "\n")
    if not cases:
        return 2
    return 0 if all(c.matches for c in cases) else 1
