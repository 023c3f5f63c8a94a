"""Arm motion: inverse kinematics with joint limits, and kinematic paths stepped through physics.

The tool tip is the bottom of the closed fingers, pointing straight down; that is
where the emulated suction cup touches a block's top surface.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pybullet as p

from vlm_ros.sim.robot import ARM_JOINTS, HOME, TOOL_LINK, Panda

TIP_OFFSET = 0.0083  # closed fingertips lie this far below panda_grasptarget [m] (measured)
READY = np.array([0.0, 0.0, 0.0, -2.2, 0.0, 2.2, np.pi / 4])  # elbow-up posture IK is pulled towards
POS_TOL = 0.001  # IK accepted within this tool position error [m]
ANGLE_TOL = 0.05  # ... and this tool axis error [rad]


class MotionStopped(Exception):
    """should_stop() held at a waypoint: the arm was halted where it was."""


def up(dz: float) -> np.ndarray:
    """Offset of dz straight up [m]."""
    return np.array([0.0, 0.0, dz])


def tool_down(yaw: float = 0.0) -> tuple[float, float, float, float]:
    """Quaternion of a tool pointing at the table, turned by yaw about the vertical [rad]."""
    return p.getQuaternionFromEuler([math.pi, 0.0, yaw])


class ArmMotion:
    """Solves IK and moves the Panda along joint-space or straight-line tool paths."""

    def __init__(self, robot: Panda, step_fn, joint_step: float = 0.035, line_step: float = 0.01,
                 substeps: int = 2, time_step: float = 1.0 / 240.0):
        self.robot = robot
        self.step_fn = step_fn  # advances physics by n steps (the sim's clock)
        self.joint_step = joint_step  # largest joint change per waypoint [rad]
        self.line_step = line_step  # tool travel per waypoint on straight lines [m]
        self.substeps = substeps  # physics steps per waypoint
        self.dt = time_step * substeps
        self.should_stop: Callable[[], bool] = lambda: False  # checked at every waypoint (a cancel flag)
        ranges = robot.upper - robot.lower
        self._ik_limits = dict(
            lowerLimits=[*robot.lower, 0.0, 0.0], upperLimits=[*robot.upper, 0.04, 0.04],
            jointRanges=[*ranges, 0.04, 0.04], restPoses=[*READY, 0.0, 0.0],
        )

    # --- kinematics -----------------------------------------------------------------------
    def tip(self) -> np.ndarray:
        """Current fingertip point [m], base frame."""
        pos, quat = self.robot.tool_pose()
        axis = np.array(p.getMatrixFromQuaternion(quat)).reshape(3, 3)[:, 2]
        return pos + TIP_OFFSET * axis

    def solve(self, tip: np.ndarray, yaw: float | None = None) -> np.ndarray | None:
        """Joint angles putting the fingertips at `tip` pointing down, or None if unreachable.

        yaw: hand rotation about the vertical [rad]; by default the one that suits the
        arm's posture there. Solutions are checked by forward kinematics and respect the
        joint limits. Tries from the current posture, then from READY turned towards the
        target. The arm is left exactly as it was.
        """
        tip = np.asarray(tip, dtype=float)
        heading = math.atan2(tip[1], tip[0])
        if yaw is None:
            yaw = heading - math.pi / 4
        ready = READY.copy()
        ready[0] = heading
        for seed in (self.robot.joints(), ready):
            q = self._solve_from(tip, yaw, seed)
            if q is not None:
                return q
        return None

    def _solve_from(self, tip: np.ndarray, yaw: float, seed: np.ndarray) -> np.ndarray | None:
        saved = self.robot.joints()
        quat = tool_down(yaw)
        goal = tip + up(TIP_OFFSET)  # grasptarget sits above the fingertips
        q = seed
        found = None
        try:
            # null-space IK picks an elbow-up posture near READY but is biased by ~1 mm;
            # plain DLS iterations from there converge to the exact point
            for limits in (self._ik_limits, {}, {}, {}, {}):
                self.robot.set_joints(q)
                q = np.array(p.calculateInverseKinematics(
                    self.robot.body, TOOL_LINK, goal.tolist(), quat, maxNumIterations=100,
                    residualThreshold=1e-6, physicsClientId=self.robot.client, **limits,
                ))[: len(ARM_JOINTS)]
                q = np.clip(q, self.robot.lower, self.robot.upper)
                self.robot.set_joints(q)
                pos, now = self.robot.tool_pose()
                axis = np.array(p.getMatrixFromQuaternion(now)).reshape(3, 3)[:, 2]
                tilt = math.acos(float(np.clip(-axis[2], -1.0, 1.0)))
                if np.linalg.norm(pos - goal) < POS_TOL and tilt < ANGLE_TOL:
                    found = q
                    break
        finally:
            self.robot.set_joints(saved)
        return found

    # --- motion ---------------------------------------------------------------------------
    def move_joints(self, goal: np.ndarray) -> None:
        """Interpolate in joint space to `goal`, stepping physics at every waypoint."""
        start = self.robot.joints()
        delta = np.asarray(goal) - start
        n = max(1, math.ceil(float(np.max(np.abs(delta))) / self.joint_step))
        velocity = delta / n / self.dt
        for i in range(1, n + 1):
            if self.should_stop():
                self.halt()
                raise MotionStopped("stopped between waypoints")
            self.robot.set_joints(start + delta * (i / n), velocity)
            self.step_fn(self.substeps)
        self.robot.set_joints(goal)

    def halt(self) -> None:
        """Hold the current posture with zero velocity (the motors keep it against gravity)."""
        self.robot.set_joints(self.robot.joints())

    def move_line(self, tip: np.ndarray, yaw: float | None = None, step: float | None = None) -> bool:
        """Move the fingertips along a straight line to `tip`; False (arm stopped) if it leaves reach."""
        start = self.tip()
        goal = np.asarray(tip, dtype=float)
        n = max(1, math.ceil(float(np.linalg.norm(goal - start)) / (step or self.line_step)))
        for i in range(1, n + 1):
            q = self.solve(start + (goal - start) * (i / n), yaw)
            if q is None:
                return False
            self.move_joints(q)
        return True

    def home(self) -> None:
        self.move_joints(HOME)
