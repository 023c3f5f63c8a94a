"""One domain-randomised training scene: sample a look, lay out the seed's objects, render, check
that every labelled object is in view, apply sensor effects; draw again when the check fails."""

from __future__ import annotations

import numpy as np

from vlm_ros.core.vocabulary import LOCATIONS
from vlm_ros.sim.look import sensor_effects
from vlm_ros.sim.robot import HOME
from vlm_ros.training.randomization import TRAINED_CELL, keeps_objects_in_view, sample_look
from vlm_ros.training.scenes import Scene, SceneObjectInfo

LOOK_ATTEMPTS = 30  # looks tried per scene before falling back to the trained camera


def camera_meta(camera) -> dict:
    """Intrinsics and camera_to_base of a SimCamera, as stored with a scene (JSON)."""
    k = camera.intrinsics
    return {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy, "width": k.width, "height": k.height,
            "camera_to_base": [float(v) for v in camera.camera_to_base.reshape(-1)]}


def render_randomized(renderer, seed: int, blocks: list[str] | None = None, bowls: list[str] | None = None,
                      keep_frame: bool = False) -> Scene:
    """renderer: a training.scenes.SceneRenderer with a Randomization. Pixels refer to the rendered frame."""
    sim, r = renderer.sim, renderer.randomization
    rng = np.random.default_rng([seed, 11])
    limits = (sim.robot.lower, sim.robot.upper)
    for attempt in range(LOOK_ATTEMPTS + 1):
        if attempt < LOOK_ATTEMPTS:
            look = sample_look(rng, r, limits, HOME)
        else:  # every draw hid something: this scene's appearance, seen from the trained camera
            look.camera, look.arm_joints = TRAINED_CELL.camera, None
            look.width, look.height = r.render_height * 4 // 3, r.render_height
        sim.set_look(look)
        objects = renderer.layout(seed, blocks, bowls)
        frame = sim.render()
        if keeps_objects_in_view(sim, renderer.processor, frame.depth) or attempt == LOOK_ATTEMPTS:
            break
    rgb = sensor_effects(frame.rgb, rng, look.noise_std, look.jpeg_quality)
    cam = sim.camera
    scene = Scene(seed=seed, image=renderer.processor.resize(rgb), frame=rgb if keep_frame else None,
                  frame_size=(cam.width, cam.height), camera=camera_meta(cam),
                  locations={name: cam.project(np.array([x, y, 0.0])) for name, (x, y) in LOCATIONS.items()})
    for o in objects:
        top = o.top_point()
        scene.objects.append(SceneObjectInfo(o.label, o.kind, o.color, cam.project(top),
                                             tuple(float(v) for v in top)))
    return scene
