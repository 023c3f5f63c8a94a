"""Draw a plan on its image: the debug view integrators look at first when a grasp misses."""

from __future__ import annotations

import cv2
import numpy as np

from vlm_ros.core.types import Plan, PlanStatus

_STATUS_COLOURS = {PlanStatus.OK: (40, 200, 40), PlanStatus.REFUSED: (230, 160, 0), PlanStatus.ERROR: (220, 30, 30)}


def draw_plan(rgb: np.ndarray, plan: Plan) -> np.ndarray:
    """Copy of `rgb` [H, W, 3] with each step's point/box, index and label, and the status line."""
    canvas = np.ascontiguousarray(rgb.copy())
    colour = _STATUS_COLOURS[plan.status]
    for index, step in enumerate(plan.steps, start=1):
        if step.box is not None:
            u0, v0, u1, v1 = (int(round(c)) for c in step.box)
            cv2.rectangle(canvas, (u0, v0), (u1, v1), colour, 2)
        if step.pixel is not None:
            u, v = (int(round(c)) for c in step.pixel)
            cv2.drawMarker(canvas, (u, v), colour, cv2.MARKER_CROSS, 14, 2)
            cv2.putText(canvas, f"{index}:{step.type.value} {step.target_label}", (u + 6, v - 6),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    cv2.putText(canvas, f"{plan.status.value}: {plan.message}"[:90], (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                colour, 1, cv2.LINE_AA)
    for row, (key, value) in enumerate(sorted(plan.debug.items()), start=1):  # preprocessing, camera_pose source
        cv2.putText(canvas, f"{key}: {value}"[:100], (8, 20 + 16 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (235, 235, 235), 1, cv2.LINE_AA)
    return canvas
