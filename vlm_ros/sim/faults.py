"""Injected execution faults: what a real arm does wrong, seeded so benchmarks repeat.

A `FaultInjector` is owned by the sim Executor and asked at four points of a plan:

- `pick_missed`: right after the suction welded the block, the grasp fails (the block
  stays where it was; the step reports "nothing grasped");
- `slip_during_transport`: the block comes off the suction cup somewhere between the pick
  and the place (it falls on the table; the executor notices, "dropped");
- `place_offset`: where the block is let go is off the target by Gaussian noise;
- `nudge_after_place`: the placed block is bumped a few centimetres sideways after the
  step reported success (only the camera can notice that).

The random stream is reseeded from the episode seed at every scene reset, so a bench run
with the same seeds and faults draws the same faults. Faults hit only the first
`plans` plans executed after a reset when `plans` > 0 (tests use slip=1 with plans=1:
the first attempt always drops, the second never does).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pybullet as p

from vlm_ros.sim.robot import GRIP_LINKS
from vlm_ros.sim.scene import TabletopSim

NUDGE_LIFT = 0.04  # a nudged block is set down from this far above its old height, clear of a bowl rim [m]
NUDGE_SETTLE_STEPS = 120  # physics steps for a nudged block to come to rest (0.5 s)
SLIP_SETTLE_STEPS = 90  # physics steps for a slipped block to fall and rest (0.375 s)
SLIP_CLEARANCE = 0.12  # a slip happens at least this far from the target, outside a bowl's reach [m]
SEED_SALT = 0xFA17  # keeps the fault stream apart from the scene layout's stream of the same seed


@dataclass(frozen=True)
class FaultConfig:
    """Fault probabilities (per pick / place) and sizes; all zero: a perfect arm."""

    slip: float = 0.0  # probability that a carried block drops during transport
    place_noise: float = 0.0  # standard deviation of the release point, per horizontal axis [m]
    nudge: float = 0.0  # probability that a placed block is bumped afterwards
    nudge_distance: float = 0.10  # how far a bump moves it [m]; 0.10 takes a block clear of a bowl
    miss_pick: float = 0.0  # probability that a grasp fails after contact
    plans: int = 0  # faults hit only the first N plans after a reset; 0: every plan

    @property
    def active(self) -> bool:
        return any((self.slip, self.place_noise, self.nudge, self.miss_pick))

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """'slip=0.2,place_noise=0.01' → FaultConfig; a clear ValueError for unknown names or bad values."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in known:
                raise ValueError(f"fault {item!r}: expected NAME=VALUE with NAME one of {', '.join(known)}")
            try:
                values[name] = int(value) if name == "plans" else float(value)
            except ValueError:
                raise ValueError(f"fault {name}: {value.strip()!r} is not a number") from None
        config = cls(**values)
        config.check()
        return config

    def check(self) -> None:
        for name in ("slip", "nudge", "miss_pick"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} is a probability; got {value}")
        for name in ("place_noise", "nudge_distance", "plans"):
            if getattr(self, name) < 0:
                raise ValueError(f"fault {name} must not be negative; got {getattr(self, name)}")

    def to_text(self) -> str:
        """Inverse of parse, non-default values only."""
        default = FaultConfig()
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if getattr(self, f.name) != getattr(default, f.name))


def faults_from_parameters(params: dict) -> FaultConfig:
    """The sim bridge's fault_* parameters → FaultConfig."""
    return FaultConfig(**{f.name: params[f"fault_{f.name}"] for f in fields(FaultConfig)})


def set_finger_collisions(sim: TabletopSim, body: int, enabled: bool) -> None:
    for link in GRIP_LINKS:
        p.setCollisionFilterPair(sim.robot.body, body, link, -1, int(enabled), physicsClientId=sim.client)


class FaultInjector:
    """Draws faults for one sim; `reset(seed)` at every scene reset, `start_plan()` per plan."""

    def __init__(self, config: FaultConfig | None = None):
        self.config = config or FaultConfig()
        self.config.check()
        self.rng = np.random.default_rng(SEED_SALT)
        self.plans_started = 0
        self.log: list[str] = []  # faults injected since the last reset, for tests and logs

    def configure(self, config: FaultConfig) -> None:
        config.check()
        self.config = config

    def reset(self, seed: int) -> None:
        self.rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, SEED_SALT])
        self.plans_started = 0
        self.log = []

    def start_plan(self) -> None:
        self.plans_started += 1

    @property
    def armed(self) -> bool:
        plans = self.config.plans
        return self.config.active and (plans == 0 or self.plans_started <= plans)

    def _chance(self, probability: float) -> bool:
        # always draw, so one fault's setting does not shift the others' random stream
        draw = float(self.rng.random())
        return self.armed and draw < probability

    # --- hooks the executor calls ------------------------------------------------------------
    def pick_missed(self) -> bool:
        missed = self._chance(self.config.miss_pick)
        if missed:
            self.log.append("miss_pick")
        return missed

    def slip_point(self, start: np.ndarray, goal: np.ndarray) -> np.ndarray | None:
        """None, or the tool point between `start` and `goal` where the carried block slips off.

        Somewhere along the first 70 % of the way, but never within SLIP_CLEARANCE of the goal, so a
        slipped block does not fall into its target by luck."""
        fraction = float(self.rng.uniform(0.1, 0.7))
        if not self._chance(self.config.slip):
            return None
        self.log.append("slip")
        span = float(np.hypot(*(goal[:2] - start[:2])))
        fraction = min(fraction, max(0.0, 1.0 - SLIP_CLEARANCE / span)) if span > 0 else 0.0
        point = start + fraction * (goal - start)
        point[2] = max(start[2], goal[2])
        return point

    def drop(self, sim: TabletopSim) -> None:
        """Let the carried block fall straight down: the weld goes, the executor's gripper still
        believes it holds it (its check notices). Finger collisions stay off while it falls, so a
        block the weld held a little inside the fingertips is not shot sideways."""
        body = sim.robot.held
        sim.robot.release()
        if body is None:
            return
        set_finger_collisions(sim, body, False)
        p.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], physicsClientId=sim.client)
        sim.step(SLIP_SETTLE_STEPS)
        set_finger_collisions(sim, body, True)

    def place_offset(self) -> np.ndarray:
        """Horizontal error of the release point [m] (zero when no noise is configured)."""
        offset = self.rng.normal(0.0, 1.0, size=2) * self.config.place_noise
        if not self.armed or self.config.place_noise <= 0:
            return np.zeros(3)
        self.log.append(f"place_noise {np.linalg.norm(offset) * 100:.1f} cm")
        return np.array([offset[0], offset[1], 0.0])

    def nudge_after_place(self, sim: TabletopSim, body_id: int) -> None:
        """With probability `nudge`, bump the just-placed body `nudge_distance` sideways."""
        angle = float(self.rng.uniform(0.0, 2.0 * np.pi))
        if not self._chance(self.config.nudge):
            return
        pos, quat = p.getBasePositionAndOrientation(body_id, physicsClientId=sim.client)
        d = self.config.nudge_distance
        moved = [pos[0] + d * np.cos(angle), pos[1] + d * np.sin(angle), pos[2] + NUDGE_LIFT]
        p.resetBasePositionAndOrientation(body_id, moved, quat, physicsClientId=sim.client)
        p.resetBaseVelocity(body_id, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], physicsClientId=sim.client)
        sim.step(NUDGE_SETTLE_STEPS)
        self.log.append(f"nudge {d * 100:.0f} cm")
