"""Every grounding_node parameter, declared once: name, default, description, range.

The node declares from this table; config/grounding.yaml and the README table are
checked against it by tests/test_parameters.py, so the three cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import yaml
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None


GROUNDING_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("backend", "auto", "Model backend: auto (tensorrt → onnxruntime → torch, first that "
              "loads; transformers when model_path is a Hugging Face VLM checkpoint), torch, onnxruntime, tensorrt, "
              "transformers (pretrained VLM families), remote (an OpenAI-compatible server, see remote_*); "
              "oracle (sim ground truth from oracle/program, for "
              "benchmarks) or test-fixed (tests only)."),
    ParamSpec("model_path", "", "Model directory (save_pretrained form). Empty: the shipped tabletop-tiny model."),
    ParamSpec("device", "cpu", "Torch/ONNX Runtime device: cpu or cuda."),
    ParamSpec("test_program", "", "Program returned by the test-fixed backend; ignored by real backends."),
    ParamSpec("base_frame", "base_link", "Frame of plan poses and markers (REP 103 robot base)."),
    ParamSpec("camera_to_base", [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
              "Camera optical frame → base frame as [x, y, z, qx, qy, qz, qw] (m); used until a "
              "camera_pose message arrives."),
    ParamSpec("use_compressed", False, "Subscribe to image/compressed (sensor_msgs/CompressedImage) "
              "instead of image."),
    ParamSpec("sync_slop_s", 0.05, "Largest stamp difference (s) for pairing colour and depth images.", 0.0, 1.0),
    ParamSpec("max_frame_age_s", 2.0, "Refuse to ground on a frame older than this (s); 0 disables.", 0.0, 3600.0),
    ParamSpec("max_clock_skew_s", 1.0, "A frame stamped more than this ahead of the node's clock (s) is an ERROR: "
              "the clocks disagree, so its age is unknown.", 0.0, 3600.0),
    ParamSpec("frame_wait_s", 10.0, "How long a request waits for a new enough frame (s): one stamped at or after its "
              "not_before, else one younger than max_frame_age_s.",
              0.0, 60.0),
    ParamSpec("max_instruction_chars", 300, "Longest accepted instruction (characters).", 1, 10000),
    ParamSpec("table_height", 0.0, "z of the table surface in the base frame (m), for named locations.",
              -2.0, 2.0),
    ParamSpec("push_distance", 0.10, "How far a push moves its object (m).", 0.0, 1.0),
    ParamSpec("place_spread", 0.033, "When one plan places several objects at the same target, put them on a "
              "ring of this radius around it (m); 0 disables.", 0.0, 0.5),
    ParamSpec("workspace_min", [0.28, -0.32, -0.02], "Workspace box lower corner [x, y, z] in the base frame (m)."),
    ParamSpec("workspace_max", [0.70, 0.32, 0.20], "Workspace box upper corner [x, y, z] in the base frame (m)."),
    ParamSpec("min_reach", 0.20, "Closest reachable target to the base axis (m).", 0.0, 5.0),
    ParamSpec("max_reach", 0.80, "Farthest reachable target from the base axis (m).", 0.0, 5.0),
    ParamSpec("execute_plan_action", "execute_plan", "ExecutePlan action the execute action forwards plans "
              "to; empty: ground only."),
    ParamSpec("execute_topic_instructions", False, "Also execute plans grounded from the instruction topic "
              "(e.g. spoken commands); otherwise the topic only grounds and publishes plans."),
    ParamSpec("execute_timeout_s", 120.0, "Longest wait for the executor's result (s).", 1.0, 3600.0),
    ParamSpec("publish_debug_image", True, "Publish debug_image with the grounded points drawn."),
    ParamSpec("verify", False, "After executing, look again on a frame stamped after the last step and check "
              "that every picked object is at its target (result `verification`; success then means verified)."),
    ParamSpec("max_attempts", 1, "Attempts per execute goal: a failed check or executor failure re-grounds the "
              "instruction and executes only what is left, up to this many times.", 1, 10),
    ParamSpec("verify_locator", "auto", "How verification finds objects again: auto (colour and depth for "
              "vocabulary labels, the grounder for others), grounder (re-point with the model), color."),
    ParamSpec("verify_block_size", 0.04, "Edge of the objects picked (m); the on-a-block and height "
              "tolerances derive from it.", 0.005, 0.5),
    ParamSpec("verify_bowl_diameter", 0.14, "Outer bowl diameter (m): in a bowl means within diameter/2 - "
              "0.4 x block size of its centre.", 0.01, 1.0),
    ParamSpec("verify_location_radius", 0.04, "A block this close to a named location is at it (m).", 0.001, 0.5),
    ParamSpec("diagnostics_period_s", 1.0, "Period of /diagnostics messages (s).", 0.1, 60.0),
    ParamSpec("max_pending_requests", 8, "Grounding requests (ground, execute, instruction) queued or running "
              "at once; beyond it a request is answered at once with a busy ERROR.", 1, 1000),
    ParamSpec("max_instruction_rate_hz", 2.0, "Most instruction-topic messages grounded per second; more are "
              "dropped (the topic may also hold only one queued request); 0 disables the limit.", 0.0, 1000.0),
    ParamSpec("max_image_bytes", 50_000_000, "Largest colour or depth image accepted (bytes; for compressed "
              "images, the size they would decode to, read from the header before decoding); larger ones are "
              "refused on arrival.", 1000, 2_000_000_000),
    ParamSpec("use_tf", True, "Look up camera→base in /tf and /tf_static (tf2_ros where installed) at the image's "
              "stamp; camera_pose, then camera_to_base, apply when tf does not know the frames."),
    ParamSpec("tf_timeout_s", 0.2, "Longest wait for the camera→base transform at the image's stamp (s).",
              0.0, 10.0),
    ParamSpec("assume_rectified", False, "Treat images as rectified: ignore camera_info D, and accept "
              "distortion models other than plumb_bob, rational_polynomial and equidistant."),
    ParamSpec("autostart", True, "Walk the lifecycle to active at start (configure: load the model, activate: "
              "open topics, services and actions); false: wait for `ros2 lifecycle set`."),
    ParamSpec("preprocess_mode", "auto", "How a frame of another aspect ratio than the model's is fitted: auto "
              "(crop when wider, letterbox when taller), crop, letterbox, or stretch."),
    # pretrained VLM families (vlm_ros.families; backend transformers)
    ParamSpec("model_family", "", "VLM family of model_path (qwen2_5_vl, qwen3_vl, paligemma, florence2, idefics3, "
              "smolvlm, molmo2, gemma3, internvl, ...); empty: read config.json model_type."),
    ParamSpec("dtype", "float32", "Weights dtype of the transformers backend: float32, bfloat16 or float16."),
    ParamSpec("max_new_tokens", 64, "Longest answer the transformers backend generates per phrase (tokens).",
              1, 4096),
    ParamSpec("planning", "per_phrase", "How a VLM family plans: per_phrase (parse the instruction, one pointing "
              "question per object phrase) or single_call (chat families: one JSON plan with points)."),
    ParamSpec("oracle_format", "", "With backend oracle: answer each phrase in this VLM family's syntax and frame "
              "and read it back with the family's parser; empty: the ground-truth program as is."),
    # backend: remote (an OpenAI-compatible server: vlm-ros serve, vLLM, SGLang, ...)
    ParamSpec("remote_url", "http://127.0.0.1:8000/v1", "backend remote: base URL of the OpenAI-compatible "
              "server (/chat/completions is appended)."),
    ParamSpec("remote_model", "", "backend remote: model name sent with each request; empty: the first id the "
              "server's /v1/models lists."),
    ParamSpec("remote_api_key_env", "", "backend remote: NAME of the environment variable holding the API key "
              "(sent as a bearer token); the key itself is never a parameter and never logged. Empty: no key."),
    ParamSpec("remote_timeout_s", 10.0, "backend remote: longest wait for one attempt (s); a request ends within "
              "remote_timeout_s x (remote_retries + 1) plus a short backoff.", 0.1, 600.0),
    ParamSpec("remote_retries", 1, "backend remote: further attempts after a connection error, timeout or "
              "HTTP 408/429/5xx.", 0, 10),
    ParamSpec("remote_jpeg_quality", 90, "backend remote: JPEG quality of the sent frame (1-100); 0 sends PNG "
              "(lossless, larger).", 0, 100),
    ParamSpec("remote_max_side", 640, "backend remote: shrink the sent frame so its longer side is at most this "
              "(px); points are mapped back to the frame. 0: send full size.", 0, 8192),
    ParamSpec("fallback_backend", "", "backend remote: local backend (e.g. onnxruntime, with model_path) that "
              "grounds the request when the remote fails; the plan's message and /diagnostics say so. Empty: "
              "an ERROR plan instead."),
)



class DescribedParameter(Protocol):
    """What a descriptor needs; ParamSpec and the speech settings' ParameterInfo both have it."""

    default: Any
    description: str
    min: float | None
    max: float | None


def descriptor(spec: DescribedParameter) -> ParameterDescriptor:
    """rcl descriptor with the description and, where given, the range."""
    desc = ParameterDescriptor(description=spec.description)
    if spec.min is not None and spec.max is not None:
        if isinstance(spec.default, int) and not isinstance(spec.default, bool):
            desc.integer_range = [IntegerRange(from_value=int(spec.min), to_value=int(spec.max), step=1)]
        else:
            desc.floating_point_range = [FloatingPointRange(from_value=float(spec.min), to_value=float(spec.max))]
    return desc


def config_yaml(specs: tuple[ParamSpec, ...], source: str) -> str:
    """A parameter file with every default and its description as a comment."""
    lines = [f"# Defaults, generated from {source} by tools/write_config.py;",
             "# tests/test_parameters.py keeps this file and the README in step with the declarations.",
             "/**:", "  ros__parameters:"]
    for spec in specs:
        lines.append(f"    # {spec.description}")
        lines.append("    " + yaml.safe_dump({spec.name: spec.default}, default_flow_style=True, width=200)
                     .strip().strip("{}"))
    return "\n".join(lines) + "\n"


def markdown_table(specs: tuple[ParamSpec, ...]) -> str:
    rows = ["| name | default | description |", "|---|---|---|"]
    for spec in specs:
        default = json.dumps(spec.default) if not isinstance(spec.default, str) else (spec.default or "''")
        rows.append(f"| `{spec.name}` | `{default}` | {spec.description} |")
    return "\n".join(rows)
