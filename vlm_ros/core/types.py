"""The data that flows through grounding: frames in, plans out.

Frames: the camera optical frame follows REP 103's `_optical_frame` convention
(x right, y down, z forward). Plans: positions are in the robot base frame
(x forward, y left, z up), metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class PrimitiveType(str, Enum):
    PICK = "pick"
    PLACE = "place"
    PUSH = "push"
    MOVE_TO = "move_to"
    HOME = "home"
    OPEN_GRIPPER = "open_gripper"
    CLOSE_GRIPPER = "close_gripper"

    @property
    def needs_target(self) -> bool:
        return self in (PrimitiveType.PICK, PrimitiveType.PLACE, PrimitiveType.PUSH, PrimitiveType.MOVE_TO)


# Order matches the uint8 constants of vlm_ros_interfaces/msg/ActionPrimitive.
PRIMITIVE_CODES: dict[PrimitiveType, int] = {t: i for i, t in enumerate(PrimitiveType)}


class PlanStatus(str, Enum):
    OK = "OK"
    REFUSED = "REFUSED"
    ERROR = "ERROR"


PLAN_STATUS_CODES: dict[PlanStatus, int] = {PlanStatus.OK: 0, PlanStatus.REFUSED: 1, PlanStatus.ERROR: 2}


@dataclass
class CameraIntrinsics:
    """Pinhole intrinsics [px] and, for a raw (unrectified) image, its lens distortion."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    distortion_model: str = ""  # plumb_bob | rational_polynomial | equidistant; "" when rectified
    d: tuple[float, ...] = ()  # CameraInfo D coefficients of distortion_model; () when rectified

    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])


@dataclass
class RGBDFrame:
    """One synchronised camera frame, as numpy arrays."""

    rgb: np.ndarray  # [H, W, 3] uint8, RGB order
    depth: np.ndarray | None  # [H, W] float32 metres along the optical axis; NaN where unknown
    intrinsics: CameraIntrinsics | None
    stamp_ns: int = 0
    frame_id: str = "camera_color_optical_frame"


@dataclass
class Primitive:
    """One action step. `pixel` comes from the model; `position` from projection."""

    type: PrimitiveType
    target_label: str = ""
    pixel: tuple[float, float] | None = None  # [u, v] px in the model's input image
    box: tuple[float, float, float, float] | None = None  # [u0, v0, u1, v1] px
    position: np.ndarray | None = None  # [3] metres, base frame
    direction: np.ndarray | None = None  # [3] unit vector, base frame (push only)
    direction_word: str = ""  # push direction as said: "left", "forward", ...
    distance: float = 0.0  # metres (push only)
    confidence: float = 1.0

    def describe(self) -> str:
        where = ""
        if self.position is not None:
            x, y, z = (float(v) for v in self.position)
            where = f" @ ({x:+.3f}, {y:+.3f}, {z:+.3f}) m"
        label = f"({self.target_label})" if self.target_label else "()"
        return f"{self.type.value}{label}{where}"


@dataclass
class Plan:
    """A grounded, checked plan; what the node publishes as vlm_ros_interfaces/ActionPlan."""

    instruction: str
    status: PlanStatus
    message: str
    steps: list[Primitive] = field(default_factory=list)
    model_id: str = ""
    raw_output: str = ""
    latency_ms: dict[str, float] = field(default_factory=dict)
    stamp_ns: int = 0
    frame_id: str = "base_link"
    debug: dict[str, str] = field(default_factory=dict)  # e.g. preprocess, camera_pose source; for people

    @property
    def ok(self) -> bool:
        return self.status is PlanStatus.OK

    def describe(self) -> str:
        lines = [f"[{self.status.value}] {self.message}"]
        lines += [f"  {i + 1}. {step.describe()}" for i, step in enumerate(self.steps)]
        return "\n".join(lines)
