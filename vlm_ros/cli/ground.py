"""`vlm-ros ground`: ground one instruction on an image file, no ROS graph needed.

With --depth and --camera-info the plan has 3D targets in the base frame; without them
it has the model's pixel points only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from vlm_ros.core.errors import GroundingRefusal, InputError, ModelOutputError, VlmRosError
from vlm_ros.core.types import CameraIntrinsics, Plan, PlanStatus, RGBDFrame


def load_camera_yaml(path: Path) -> tuple[CameraIntrinsics, list[float]]:
    """ROS camera_info YAML (camera_calibration format) + optional `camera_to_base: [x,y,z,qx,qy,qz,qw]`."""
    data = yaml.safe_load(path.read_text())
    try:
        k = data["camera_matrix"]["data"]
        intrinsics = CameraIntrinsics(fx=k[0], fy=k[4], cx=k[2], cy=k[5], width=int(data["image_width"]),
                                      height=int(data["image_height"]))
    except (KeyError, TypeError, IndexError) as error:
        raise InputError(f"{path} is not a camera_info YAML (needs camera_matrix.data, image_width, "
                         f"image_height): missing {error}") from None
    return intrinsics, list(data.get("camera_to_base", [0, 0, 0, 0, 0, 0, 1]))


def load_rgb(path: Path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"{path} is not a readable image file.")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def plan_to_dict(plan: Plan) -> dict:
    return {
        "instruction": plan.instruction, "status": plan.status.value, "message": plan.message,
        "model_id": plan.model_id, "raw_output": plan.raw_output, "frame_id": plan.frame_id,
        "latency_ms": {k: round(v, 2) for k, v in plan.latency_ms.items()},
        "debug": dict(plan.debug),  # e.g. the aspect-ratio preprocessing
        "steps": [{"type": s.type.value, "target": s.target_label,
                   "pixel": list(s.pixel) if s.pixel is not None else None,
                   "position": [round(float(v), 4) for v in s.position] if s.position is not None else None,
                   "confidence": s.confidence} for s in plan.steps],
    }


def ground_files(args: argparse.Namespace) -> Plan:
    from vlm_ros.geometry.transforms import pose_to_matrix
    from vlm_ros.grounding.factory import make_grounder
    from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig, check_instruction, refusal_message

    options = {"model_family": args.model_family, "dtype": args.dtype, "max_new_tokens": args.max_new_tokens}
    grounder = make_grounder(args.backend, args.model or "", args.device, **options)
    rgb = load_rgb(Path(args.image))
    if args.depth and args.camera_info:
        intrinsics, camera_to_base = load_camera_yaml(Path(args.camera_info))
        depth = np.load(args.depth).astype(np.float32)
        frame = RGBDFrame(rgb=rgb, depth=depth, intrinsics=intrinsics)
        config = PipelineConfig(max_frame_age_s=0.0)
        return GroundingPipeline(grounder, pose_to_matrix(camera_to_base), config).run(frame, args.instruction)
    text = check_instruction(args.instruction, PipelineConfig().max_instruction_chars)
    try:
        result = grounder.ground(rgb, text)
    except GroundingRefusal as refusal:  # 2D mode has no pipeline to turn these into plans
        return Plan(text, PlanStatus.REFUSED, str(refusal), model_id=grounder.model_id)
    except ModelOutputError as error:
        return Plan(text, PlanStatus.ERROR, f"The model's output could not be understood: {error}",
                    model_id=grounder.model_id)
    if result.program.refused:
        return Plan(text, PlanStatus.REFUSED, refusal_message(result.program.refused_label or "", text),
                    model_id=grounder.model_id, raw_output=result.raw_output, latency_ms=result.latency_ms)
    return Plan(text, PlanStatus.OK, "Grounded in 2D (give --depth and --camera-info for 3D targets).",
                steps=result.program.steps, model_id=grounder.model_id, raw_output=result.raw_output,
                latency_ms=result.latency_ms, frame_id="image",
                debug={"preprocess": result.preprocess} if result.preprocess else {})


def run(args: argparse.Namespace) -> int:
    try:
        plan = ground_files(args)
    except VlmRosError as error:  # bad input, a model that does not load
        plan = Plan(args.instruction, PlanStatus.ERROR, str(error))
    if args.json:
        print(json.dumps(plan_to_dict(plan), indent=2))
    else:
        print(f"{plan.instruction!r}\n{plan.describe()}\nraw: {plan.raw_output}")
    return 0 if plan.status is PlanStatus.OK else (1 if plan.status is PlanStatus.ERROR else 2)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ground", help="ground an instruction on an image file (no ROS graph)",
                                   description=__doc__)
    parser.add_argument("--image", required=True, help="colour image file (PNG, JPEG)")
    parser.add_argument("--depth", help="depth .npy, float32 metres, same size as the image")
    parser.add_argument("--camera-info", help="camera_info YAML (+ optional camera_to_base)")
    parser.add_argument("--instruction", required=True)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--model", "--model-path", dest="model",
                        help="model directory (default: shipped tabletop-tiny; a Hugging Face VLM checkpoint too)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model-family", default="", help="VLM family of --model (default: its config.json)")
    parser.add_argument("--dtype", default="float32", help="transformers backend: float32, bfloat16, float16")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="transformers backend: answer length limit")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(func=run)
