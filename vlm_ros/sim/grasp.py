"""Emulated suction at the closed fingertips: touch, weld, carry, let go.

Contact is judged from PyBullet's closest-point queries, so a grasp only happens
where the fingertips really touch an object, and a drop is noticed when the object
is no longer where the weld should hold it.
"""

from __future__ import annotations

import math

import numpy as np
import pybullet as p

from vlm_ros.sim.motion import ArmMotion, up
from vlm_ros.sim.objects import SceneObject
from vlm_ros.sim.results import DROPPED, UNREACHABLE, StepFailed
from vlm_ros.sim.robot import FINGER_CLOSED, FINGER_JOINTS, FINGER_OPEN
from vlm_ros.sim.scene import TabletopSim

TOUCH = 0.0015  # closer than this counts as contact [m]
OVERSHOOT = 0.02  # how far below the expected surface the suction cup may search [m]
COARSE, FINE = 0.01, 0.002  # descent waypoint spacing far from / near the surface [m]
DROP_TOL = 0.015  # a held object further than this from where the weld holds it has fallen [m]
SETTLE_STEPS = 60  # physics steps for a released object to come to rest (0.25 s)


class Gripper:
    """Owns the suction state of the sim's Panda."""

    def __init__(self, sim: TabletopSim, motion: ArmMotion, grip_force: float = 200.0):
        self.sim = sim
        self.motion = motion
        self.grip_force = grip_force  # [N]
        self.held: SceneObject | None = None
        self._offset = 0.0  # object centre to fingertip distance when welded [m]

    # --- contact ---------------------------------------------------------------------------
    def _touching_fingers(self) -> tuple[SceneObject | None, bool]:
        """(object the fingertips touch, whether they touch the table)."""
        robot = self.sim.robot
        best, best_d = None, TOUCH
        for obj in self.sim.objects():
            for link in FINGER_JOINTS:
                for c in p.getClosestPoints(robot.body, obj.body_id, TOUCH, link, -1,
                                            physicsClientId=self.sim.client):
                    if c[8] < best_d:
                        best, best_d = obj, c[8]
        table = any(p.getClosestPoints(robot.body, self.sim.table, TOUCH, link, -1,
                                       physicsClientId=self.sim.client) for link in FINGER_JOINTS)
        return best, table

    def _held_touches_something(self) -> bool:
        if self.held is None:
            return False
        others = [self.sim.table] + [o.body_id for o in self.sim.objects() if o is not self.held]
        return any(p.getClosestPoints(self.held.body_id, b, TOUCH, physicsClientId=self.sim.client)
                   for b in others)

    def _descend(self, goal: np.ndarray, stop) -> bool:
        """Lower the fingertips towards `goal`, coarse then fine; True as soon as stop() holds."""
        start = self.motion.tip()
        fine_from = goal[2] + OVERSHOOT + 0.01
        z = start[2]
        while True:
            z = max(goal[2], z - (COARSE if z > fine_from else FINE))
            q = self.motion.solve(np.array([goal[0], goal[1], z]))
            if q is None:
                raise StepFailed(UNREACHABLE, "the arm cannot reach down there")
            self.motion.move_joints(q)
            if stop():
                return True
            if z <= goal[2] + 1e-9:
                return False

    # --- grasping --------------------------------------------------------------------------
    def suck_down(self, surface: np.ndarray) -> bool:
        """Lower onto `surface` until the fingertips touch an object, then weld it. False if none."""
        self.sim.robot.set_fingers(FINGER_CLOSED)
        found: list[SceneObject] = []

        def touched() -> bool:
            obj, table = self._touching_fingers()
            if obj is not None:
                found.append(obj)
            return obj is not None or table

        self._descend(np.asarray(surface) - up(OVERSHOOT), touched)
        if not found:
            return False
        self._weld(found[0])
        return True

    def _weld(self, obj: SceneObject) -> None:
        self.sim.robot.attach(obj.body_id, self.grip_force)
        self.held = obj
        self._offset = float(np.linalg.norm(obj.position() - self.motion.tip()))

    def close(self) -> None:
        """Close the fingers; whatever the fingertips touch is welded."""
        self.sim.robot.set_fingers(FINGER_CLOSED)
        if self.held is None:
            obj, _ = self._touching_fingers()
            if obj is not None:
                self._weld(obj)

    def open(self) -> None:
        """Let go (a held object falls) and open the fingers."""
        self.release(settle=True)
        self.sim.robot.set_fingers(FINGER_OPEN)

    def release(self, settle: bool = False) -> None:
        self.sim.robot.release()
        self.held = None
        if settle:
            self.sim.step(SETTLE_STEPS)

    # --- carrying --------------------------------------------------------------------------
    def hang(self) -> float:
        """How far the held object reaches below the fingertips [m]."""
        assert self.held is not None
        lowest = p.getAABB(self.held.body_id, physicsClientId=self.sim.client)[0][2]
        return float(self.motion.tip()[2] - lowest)

    def lower_onto(self, release_tip: np.ndarray) -> None:
        """Lower the held object until the tip reaches `release_tip` or the object touches something."""
        self._descend(np.asarray(release_tip), self._held_touches_something)
        self.check_held()

    def check_held(self) -> None:
        """Raise DROPPED when the held object has come off the weld."""
        if self.held is None:
            return
        distance = float(np.linalg.norm(self.held.position() - self.motion.tip()))
        if not math.isclose(distance, self._offset, abs_tol=DROP_TOL):
            label = self.held.label
            self.release()
            raise StepFailed(DROPPED, f"the {label} fell off the gripper")
