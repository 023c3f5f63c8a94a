"""The Franka Panda from pybullet_data: joints, limits, home pose, tool pose, fingers.

Motion is kinematic (joint states are set along interpolated paths) while physics
steps in between, so carried and pushed objects still feel the arm. That is as
reliable as the Ravens benchmark's position control, and much faster.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pybullet as p
import pybullet_data

ARM_JOINTS = list(range(7))
FINGER_JOINTS = [9, 10]
HAND_LINK = 8
GRIP_LINKS = (HAND_LINK, *FINGER_JOINTS)  # links that must not fight a held object
TOOL_LINK = 11  # panda_grasptarget: between the fingertips, where suction is emulated
FINGER_OPEN = 0.04  # per finger [m]
FINGER_CLOSED = 0.0  # the default: closed fingertips act as the suction cup
# Arm folded up behind the workspace, tool pointing down: out of the default camera's view of the table.
HOME = np.array([0.0, -0.9, 0.0, -2.6, 0.0, 1.75, np.pi / 4])
HOLD_FORCE = 500.0  # joint motor force/torque that keeps the arm where it was put [N, N m]


class Panda:
    """Panda arm with its hand; owns nothing but its body id and joint bookkeeping."""

    def __init__(self, client: int):
        self.client = client
        self.body = p.loadURDF(
            str(pybullet_data.getDataPath()) + "/franka_panda/panda.urdf", [0.0, 0.0, 0.0],
            useFixedBase=True, flags=p.URDF_ENABLE_CACHED_GRAPHICS_SHAPES, physicsClientId=client,
        )
        info = [p.getJointInfo(self.body, j, physicsClientId=client) for j in ARM_JOINTS]
        self.lower = np.array([i[8] for i in info])
        self.upper = np.array([i[9] for i in info])
        self.upper[3] = min(self.upper[3], -0.0698)  # the real Panda's elbow limit; the URDF says 0
        self.held: int | None = None  # body id stuck to the tool
        self._grip: int | None = None  # its fixed constraint
        self.set_joints(HOME)
        self.set_fingers(FINGER_CLOSED)

    def joints(self) -> np.ndarray:
        """Current arm joint angles [rad], shape [7]."""
        return np.array([s[0] for s in p.getJointStates(self.body, ARM_JOINTS, physicsClientId=self.client)])

    def set_joints(self, q: np.ndarray, velocity: np.ndarray | None = None) -> None:
        """Teleport the arm; velocity tells contacts how fast it moved [rad/s]."""
        vel = np.zeros(7) if velocity is None else velocity
        for j, (angle, speed) in enumerate(zip(q, vel)):
            p.resetJointState(self.body, j, float(angle), float(speed), physicsClientId=self.client)
        # stiff motors hold the pose against gravity and loads until the next waypoint
        p.setJointMotorControlArray(
            self.body, ARM_JOINTS, p.POSITION_CONTROL, targetPositions=list(q), targetVelocities=list(vel),
            forces=[HOLD_FORCE] * 7, physicsClientId=self.client,
        )

    def set_fingers(self, width_each: float) -> None:
        for j in FINGER_JOINTS:
            p.resetJointState(self.body, j, width_each, physicsClientId=self.client)
        p.setJointMotorControlArray(
            self.body, FINGER_JOINTS, p.POSITION_CONTROL, targetPositions=[width_each] * 2,
            forces=[HOLD_FORCE] * 2, physicsClientId=self.client,
        )

    def tool_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Position [m] and quaternion xyzw of the tool point, base frame."""
        state = p.getLinkState(self.body, TOOL_LINK, computeForwardKinematics=True, physicsClientId=self.client)
        return np.array(state[4]), np.array(state[5])

    def within_limits(self, q: np.ndarray, tol: float = 1e-6) -> bool:
        return bool(np.all(q >= self.lower - tol) and np.all(q <= self.upper + tol))

    def attach(self, body: int, max_force: float = 200.0) -> None:
        """Emulated suction: weld `body` to the tool where it is now (as Ravens/CLIPort do).

        max_force [N] bounds the weld; a weak one lets a heavy load fall off, as a real cup would.
        """
        self.release()
        tool_pos, tool_quat = self.tool_pose()
        obj_pos, obj_quat = p.getBasePositionAndOrientation(body, physicsClientId=self.client)
        inv_pos, inv_quat = p.invertTransform(tool_pos, tool_quat)
        rel_pos, rel_quat = p.multiplyTransforms(inv_pos, inv_quat, obj_pos, obj_quat)
        self._grip = p.createConstraint(
            self.body, TOOL_LINK, body, -1, p.JOINT_FIXED, [0, 0, 0], rel_pos, [0, 0, 0],
            parentFrameOrientation=rel_quat, physicsClientId=self.client,
        )
        p.changeConstraint(self._grip, maxForce=max_force, physicsClientId=self.client)
        for link in GRIP_LINKS:
            p.setCollisionFilterPair(self.body, body, link, -1, 0, physicsClientId=self.client)
        self.held = body

    def release(self) -> None:
        """Drop whatever is held (no-op when empty)."""
        # either may already be gone with a removed body
        if self._grip is not None:
            with contextlib.suppress(p.error):
                p.removeConstraint(self._grip, physicsClientId=self.client)
        if self.held is not None:
            with contextlib.suppress(p.error):
                for link in GRIP_LINKS:
                    p.setCollisionFilterPair(self.body, self.held, link, -1, 1, physicsClientId=self.client)
        self._grip = None
        self.held = None
