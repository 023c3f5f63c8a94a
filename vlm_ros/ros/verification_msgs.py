"""Verification results ⇄ vlm_ros_interfaces messages (GoalFinding, VerificationResult). No rclpy."""

from __future__ import annotations

import math

import numpy as np
from geometry_msgs.msg import Point

from vlm_ros.grounding.verification import Finding, Verification
from vlm_ros.ros.msg_conversion import time_msg
from vlm_ros_interfaces.msg import GoalFinding, VerificationResult


def _point(position: np.ndarray | None) -> Point:
    if position is None:
        return Point(x=math.nan, y=math.nan, z=math.nan)
    x, y, z = (float(v) for v in position)
    return Point(x=x, y=y, z=z)


def finding_to_msg(finding: Finding) -> GoalFinding:
    goal = finding.goal
    return GoalFinding(
        pick_step=goal.pick_step, place_step=goal.place_step, object=goal.obj, target=goal.target,
        relation=goal.relation, satisfied=finding.satisfied, found=finding.object_position is not None,
        object_position=_point(finding.object_position), target_position=_point(finding.target_position),
        distance=float(finding.distance), tolerance=float(finding.tolerance), message=finding.message)


def verification_to_msg(verification: Verification | None) -> VerificationResult:
    """An empty (checked = false) message for None."""
    if verification is None:
        return VerificationResult(checked=False, verified=False, message="not verified")
    return VerificationResult(
        checked=verification.checked, verified=verification.verified, stamp=time_msg(verification.stamp_ns),
        attempt=verification.attempt, message=verification.message,
        findings=[finding_to_msg(f) for f in verification.findings])
