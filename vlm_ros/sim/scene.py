"""The tabletop world: table, Panda, seeded blocks and bowls, and the camera."""

from __future__ import annotations

import time

import numpy as np
import pybullet as p

from vlm_ros.core.types import CameraIntrinsics, RGBDFrame
from vlm_ros.sim.camera import CameraConfig, SimCamera
from vlm_ros.sim.clutter import ClutterShapes, place_clutter
from vlm_ros.sim.layout import pick_colors, sample_layout
from vlm_ros.sim.look import CellLook, TableTextures
from vlm_ros.sim.objects import SceneObject, ShapeLibrary, footprint_radius, make_object
from vlm_ros.sim.robot import FINGER_CLOSED, HOME, Panda

TIME_STEP = 1.0 / 240.0  # [s]
TABLE_COLOR = (0.70, 0.64, 0.52, 1.0)  # beige: apart from every vocabulary colour
TABLE_HALF = (0.65, 0.70, 0.025)  # [m]
TABLE_CENTRE = (0.35, 0.0, -0.025)  # top surface at z = 0


class TabletopSim:
    """A PyBullet tabletop: `reset(seed)` lays out a scene, `render()` photographs it.

    Headless (DIRECT) unless gui=True. Everything is in the base frame (REP 103).
    """

    def __init__(self, gui: bool = False, width: int = 640, height: int = 480,
                 camera: CameraConfig | None = None):
        self.client = p.connect(p.GUI if gui else p.DIRECT)
        p.setGravity(0.0, 0.0, -9.81, physicsClientId=self.client)
        p.setTimeStep(TIME_STEP, physicsClientId=self.client)
        self.table = self._make_table()
        self.robot = Panda(self.client)
        self.camera = SimCamera(camera or CameraConfig(), width, height)
        self._shapes = ShapeLibrary(self.client)
        self._objects: list[SceneObject] = []
        self.look = CellLook()  # camera, light, table, arm pose, object size, clutter (set_look)
        self._clutter_shapes = ClutterShapes(self.client)
        self._textures: TableTextures | None = None
        self._clutter: list[int] = []
        self.steps = 0  # physics steps since start; sim time = steps * TIME_STEP
        self.real_time = False  # pace step() to the wall clock, as a real arm moves (see step)
        self._pace: tuple[float, int] | None = None  # (wall time, steps) the pacing counts from
        self.seed: int | None = None

    def _make_table(self) -> int:
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=TABLE_HALF, physicsClientId=self.client)
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=TABLE_HALF, rgbaColor=TABLE_COLOR,
                                  physicsClientId=self.client)
        body = p.createMultiBody(0.0, col, vis, basePosition=TABLE_CENTRE, physicsClientId=self.client)
        p.changeDynamics(body, -1, lateralFriction=0.8, physicsClientId=self.client)
        return body

    # --- scene --------------------------------------------------------------------------------
    def reset(self, seed: int, blocks: list[str] | None = None, bowls: list[str] | None = None,
              n_blocks: tuple[int, int] = (2, 5), n_bowls: tuple[int, int] = (1, 3),
              keep_clear: list[tuple[tuple[float, float], float]] = ()) -> list[SceneObject]:
        """Clear the table and lay out a new scene; the same seed and arguments give the same scene.

        blocks/bowls: colour lists to use as given (repeats allowed); otherwise distinct random
        colours, n drawn from n_blocks / n_bowls (inclusive). keep_clear: ((x, y), radius) discs
        [m] left free of objects.
        """
        for body in [o.body_id for o in self._objects] + self._clutter:
            p.removeBody(body, physicsClientId=self.client)
        self._objects, self._clutter = [], []
        self.robot.release()
        self.robot.set_joints(HOME if self.look.arm_joints is None else np.asarray(self.look.arm_joints))
        self.robot.set_fingers(FINGER_CLOSED)
        rng = np.random.default_rng(seed)
        bowl_colors = pick_colors(rng, bowls, n_bowls)
        block_colors = pick_colors(rng, blocks, n_blocks)
        scale = self.look.object_scale
        for place in sample_layout(rng, block_colors, bowl_colors, keep_clear, scale=scale):
            self._objects.append(make_object(self._shapes, place.kind, place.color, place.xy, place.yaw, scale))
        if self.look.distractors:  # drawn from their own stream: the labelled layout stays the seed's
            occupied = [(tuple(o.position()[:2]), footprint_radius(o.kind, o.scale)) for o in self._objects]
            self._clutter = place_clutter(self._clutter_shapes, np.random.default_rng([seed, 31]),
                                          self.look.distractors, [*occupied, *keep_clear])
        self.seed = seed
        return list(self._objects)

    def objects(self) -> list[SceneObject]:
        return list(self._objects)

    def find(self, label: str) -> list[SceneObject]:
        """Objects whose label is exactly `label` ("red block"); empty when there are none."""
        return [o for o in self._objects if o.label == label]

    def object_by_body(self, body_id: int) -> SceneObject | None:
        return next((o for o in self._objects if o.body_id == body_id), None)

    # --- look ---------------------------------------------------------------------------------
    def set_look(self, look: CellLook) -> None:
        """Camera, image size, light, table and arm pose apply now; object size and clutter at the
        next reset. CellLook() restores the trained cell."""
        self.look = look
        self.camera = SimCamera(look.camera, look.width, look.height)
        texture = -1
        if look.table_texture != "plain":
            self._textures = self._textures or TableTextures(self.client)
            texture = self._textures.get(look.table_texture, look.texture_variant)
        p.changeVisualShape(self.table, -1, rgbaColor=[*look.table_color, 1.0], textureUniqueId=texture,
                            physicsClientId=self.client)
        if self.robot.held is None:
            self.robot.set_joints(HOME if look.arm_joints is None else np.asarray(look.arm_joints))

    # --- camera -------------------------------------------------------------------------------
    @property
    def intrinsics(self) -> CameraIntrinsics:
        return self.camera.intrinsics

    @property
    def camera_to_base(self) -> np.ndarray:
        """[4, 4] maps points in camera_color_optical_frame to base_link."""
        return self.camera.camera_to_base

    def project(self, point_base: np.ndarray) -> tuple[float, float]:
        """Base-frame point [m] -> pixel (u, v) in the rendered image."""
        return self.camera.project(point_base)

    def render(self) -> RGBDFrame:
        """RGB (uint8) + metric depth (float32 m) stamped with sim time."""
        return self.camera.render(self.client, stamp_ns=self.time_ns(), cull=(self.robot.body,),
                                  light=self.look.lighting.render_kwargs())

    # --- time ---------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        for _ in range(n):
            p.stepSimulation(physicsClientId=self.client)
        self.steps += n
        if self.real_time:
            self._keep_pace()

    def _keep_pace(self) -> None:
        """Sleep until wall time catches up with sim time; a pause of over 0.1 s restarts the count,
        so idle time between plans is not made up by running fast."""
        now = time.monotonic()
        if self._pace is None or now - (self._pace[0] + (self.steps - self._pace[1]) * TIME_STEP) > 0.1:
            self._pace = (now, self.steps)
            return
        ahead = self._pace[0] + (self.steps - self._pace[1]) * TIME_STEP - now
        if ahead > 0:
            time.sleep(ahead)

    def time_ns(self) -> int:
        return int(round(self.steps * TIME_STEP * 1e9))

    def close(self) -> None:
        if self.client >= 0:
            p.disconnect(physicsClientId=self.client)
            self.client = -1

    def __enter__(self) -> TabletopSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
