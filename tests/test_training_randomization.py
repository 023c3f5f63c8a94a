"""Domain randomisation: every range of `Randomization` is honoured, the trained cell renders as it
always did, and randomised scenes render with every labelled object in the model's view."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vlm_ros.models.processor import ImageProcessor
from vlm_ros.sim.camera import CameraConfig, look_at
from vlm_ros.sim.look import TEXTURES, CellLook, Lighting, camera_on_sphere, sensor_effects
from vlm_ros.sim.robot import HOME
from vlm_ros.training.randomization import ASPECTS, TABLE_PALETTE, Randomization, sample_look

pytestmark = pytest.mark.sim
R = Randomization()
N = 400


@pytest.fixture(scope="module")
def looks():
    rng = np.random.default_rng(0)
    lower, upper = HOME - 3.0, HOME + 3.0
    lower[0], upper[0] = -0.5, 0.5  # a narrow joint: clipping must hold
    return [sample_look(rng, R, (lower, upper), HOME) for _ in range(N)], (lower, upper)


def sphere_coordinates(cam: CameraConfig) -> tuple[float, float, float, float]:
    """(distance, azimuth deg in [0, 360), elevation deg, roll deg) of a camera about its target."""
    offset = np.asarray(cam.eye) - np.asarray(cam.target)
    d = float(np.linalg.norm(offset))
    el = math.degrees(math.asin(offset[2] / d))
    az = math.degrees(math.atan2(offset[1], offset[0])) % 360.0
    rolled = camera_on_sphere(cam.target, d, az, el, 0.0, cam.fov_y_deg)
    forward = -offset / d
    cos = float(np.clip(np.dot(rolled.up, cam.up), -1, 1))
    sign = np.sign(np.dot(np.cross(rolled.up, cam.up), forward)) or 1.0
    return d, az, el, float(sign * math.degrees(math.acos(cos)))


def test_camera_ranges_are_honoured(looks):
    samples, _ = looks
    coords = np.array([sphere_coordinates(look.camera) for look in samples])  # [N, 4]
    fov = np.array([look.camera.fov_y_deg for look in samples])
    lens = math.tan(math.radians(22.5)) / np.tan(np.radians(fov / 2))
    d45 = coords[:, 0] / lens  # distance at the 45 deg equivalent lens
    assert R.distance[0] - 1e-9 <= d45.min() and d45.max() <= R.distance[1] + 1e-9
    assert R.fov_y_deg[0] <= fov.min() and fov.max() <= R.fov_y_deg[1]
    assert fov.max() - fov.min() > 0.8 * (R.fov_y_deg[1] - R.fov_y_deg[0])  # spread over the range
    assert R.elevation_deg[0] - 1e-6 <= coords[:, 2].min() and coords[:, 2].max() <= R.elevation_deg[1] + 1e-6
    assert np.histogram(coords[:, 1], bins=8, range=(0, 360))[0].min() > N / 8 * 0.5  # azimuth all round
    roll = coords[coords[:, 2] < 85, 3]  # roll about a near-vertical axis is azimuth too
    assert R.roll_deg[0] - 1e-6 <= roll.min() and roll.max() <= R.roll_deg[1] + 1e-6 and roll.std() > 5
    target = np.array([look.camera.target for look in samples])
    jitter = np.abs(target[:, :2] - np.asarray(R.look_at[:2]))
    assert jitter.max() <= R.look_at_jitter + 1e-12 and jitter.max() > 0.8 * R.look_at_jitter
    ratios = {round(look.width / look.height, 2) for look in samples}  # 427 x 240 for 16:9
    assert ratios == {round(w / h, 2) for w, h in ASPECTS.values()} == {1.33, 1.78}
    assert {look.height for look in samples} == {R.render_height}


def test_light_table_arm_object_clutter_and_sensor_ranges(looks):
    samples, (lower, upper) = looks
    light = [look.lighting for look in samples]
    for name, (lo, hi) in (("ambient", R.ambient), ("diffuse", R.diffuse), ("specular", R.specular)):
        v = np.array([getattr(x, name) for x in light])
        assert lo <= v.min() and v.max() <= hi and v.max() - v.min() > 0.7 * (hi - lo), name
    color = np.array([x.color for x in light])
    assert color.min() >= 1 - R.light_tint and color.max() <= 1.0
    direction = np.array([np.asarray(x.direction) / np.linalg.norm(x.direction) for x in light])
    elevation = np.degrees(np.arcsin(direction[:, 2]))
    assert elevation.min() >= R.light_elevation_deg[0] - 1e-6
    assert 0.3 < np.mean([x.shadows for x in light]) < 0.7
    tables = np.array([look.table_color for look in samples])
    assert tables.min() >= min(R.table_rgb[0], *np.ravel(list(TABLE_PALETTE.values()))) - 1e-9
    for name in ("white", "black", "dark wood"):
        assert any(np.allclose(t, TABLE_PALETTE[name]) for t in tables), name
    assert {look.table_texture for look in samples} == set(R.table_textures) == set(TEXTURES)
    posed = [np.asarray(look.arm_joints) for look in samples if look.arm_joints is not None]
    assert 0.35 < len(posed) / N < 0.65
    posed = np.array(posed)
    assert (posed >= lower - 1e-12).all() and (posed <= upper + 1e-12).all()
    assert (np.abs(posed - HOME) <= R.arm_joint_spread + 1e-12).all()
    scale = np.array([look.object_scale for look in samples])
    assert R.object_scale[0] <= scale.min() and scale.max() <= R.object_scale[1]
    assert {look.distractors for look in samples} == set(range(R.distractors[0], R.distractors[1] + 1))
    noise = np.array([look.noise_std for look in samples])
    assert R.noise_std[0] <= noise.min() and noise.max() <= R.noise_std[1]
    jpeg = np.array([look.jpeg_quality for look in samples])
    assert 0.35 < np.mean(jpeg > 0) < 0.65
    assert R.jpeg_quality[0] <= jpeg[jpeg > 0].min() and jpeg.max() <= R.jpeg_quality[1]


def test_sphere_camera_reproduces_the_trained_camera_and_looks_straight_down():
    nominal = CameraConfig()
    d = math.dist(nominal.eye, nominal.target)
    el = math.degrees(math.asin((nominal.eye[2] - nominal.target[2]) / d))
    cam = camera_on_sphere(nominal.target, d, 0.0, el, 0.0, nominal.fov_y_deg)
    want = look_at(*(np.asarray(v, dtype=float) for v in (nominal.eye, nominal.target, nominal.up)))
    got = look_at(*(np.asarray(v, dtype=float) for v in (cam.eye, cam.target, cam.up)))
    np.testing.assert_allclose(got, want, atol=1e-12)
    down = camera_on_sphere((0.5, 0.0, 0.0), 0.8, 30.0, 90.0)
    pose = look_at(*(np.asarray(v, dtype=float) for v in (down.eye, down.target, down.up)))
    np.testing.assert_allclose(pose[:3, 2], [0, 0, -1], atol=1e-12)  # optical axis straight down


def test_the_trained_cell_renders_as_before_even_after_a_shifted_light():
    """PyBullet keeps light settings it was once given: CellLook() must restate its defaults."""
    from vlm_ros.sim.scene import TabletopSim

    with TabletopSim(width=160, height=120) as sim:
        sim.reset(4)
        before = sim.render().rgb
        sim.set_look(CellLook(width=160, height=120, lighting=Lighting(direction=(0, -1, 0.2), ambient=0.2,
                                                                       shadows=True), table_color=(0.1, 0.1, 0.1),
                              table_texture="wood"))
        shifted = sim.render().rgb
        sim.set_look(CellLook(width=160, height=120))
        sim.reset(4)
        after = sim.render().rgb
    assert np.abs(shifted.astype(int) - before).mean() > 10
    np.testing.assert_array_equal(after, before)


def test_object_scale_and_clutter_apply_at_reset():
    from vlm_ros.sim.objects import BLOCK_SIZE
    from vlm_ros.sim.scene import TabletopSim

    with TabletopSim(width=160, height=120) as sim:
        sim.set_look(CellLook(width=160, height=120, object_scale=1.25, distractors=4))
        objects = sim.reset(9)
        blocks = [o for o in objects if o.kind == "block"]
        assert all(o.size == pytest.approx(1.25 * BLOCK_SIZE) for o in blocks)
        assert all(o.top_point()[2] == pytest.approx(1.25 * BLOCK_SIZE) for o in blocks)
        assert len(sim._clutter) == 4 and len(sim.objects()) == len(objects)  # clutter is unlabelled
        sim.set_look(CellLook(width=160, height=120))
        assert all(o.size == pytest.approx(BLOCK_SIZE) for o in sim.reset(9) if o.kind == "block")
        assert sim._clutter == []


def test_sensor_effects_add_the_noise_asked_for():
    rng = np.random.default_rng(0)
    flat = np.full((120, 160, 3), 128, np.uint8)
    noisy = sensor_effects(flat, rng, 6.0, 0)
    assert 5.5 < noisy.astype(float).std() < 6.5
    assert np.array_equal(sensor_effects(flat, rng, 0.0, 0), flat)
    ramp = np.tile(np.linspace(0, 255, 160, dtype=np.uint8)[None, :, None], (120, 1, 3))
    jpeg = sensor_effects(ramp, rng, 0.0, 35)
    assert jpeg.shape == ramp.shape and 0 < np.abs(jpeg.astype(int) - ramp).mean() < 8


def test_randomised_scenes_render_with_every_object_in_view(tmp_path):
    from vlm_ros.models.tokenizer import build_tokenizer
    from vlm_ros.training.dataset import NO_AUGMENT, BatchBuilder
    from vlm_ros.training.grammar import InstructionGrammar, load_template_set, vocabulary_texts
    from vlm_ros.training.scenes import SceneRenderer, load_shards, save_shard

    processor = ImageProcessor()
    renderer = SceneRenderer(processor, 320, 240, randomization=Randomization(render_height=120))
    try:
        scenes = [renderer.render(seed, keep_frame=True) for seed in range(6)]
    finally:
        renderer.close()
    sizes = set()
    for scene in scenes:
        w, h = scene.frame_size
        sizes.add((w, h))
        assert scene.frame.shape == (h, w, 3) and scene.image.shape == (128, 128, 3)
        u0, v0, u1, v1 = processor.crop_box(w, h)
        for obj in scene.objects:
            assert u0 <= obj.pixel[0] <= u1 and v0 <= obj.pixel[1] <= v1, (scene.seed, obj)
        for u, v in scene.locations.values():
            assert u0 <= u <= u1 and v0 <= v <= v1
        # the stored camera projects each object's 3D point to its stored pixel
        pose = np.asarray(scene.camera["camera_to_base"]).reshape(4, 4)
        for obj in scene.objects:
            pc = np.linalg.inv(pose) @ np.append(obj.point, 1.0)
            u = scene.camera["fx"] * pc[0] / pc[2] + scene.camera["cx"]
            assert u == pytest.approx(obj.pixel[0], abs=1e-6)
    assert len({tuple(s.camera["camera_to_base"]) for s in scenes}) == len(scenes)  # six cameras
    save_shard(tmp_path / "scenes_0000000.npz", scenes)
    loaded = load_shards([tmp_path / "scenes_0000000.npz"])
    assert [s.frame_size for s in loaded] == [s.frame_size for s in scenes]
    assert loaded[0].camera == scenes[0].camera and loaded[0].locations.keys() == scenes[0].locations.keys()
    # training batches read each scene's own frame and locations
    templates = load_template_set("train")
    builder = BatchBuilder(build_tokenizer(vocabulary_texts(templates)), processor,
                           InstructionGrammar(templates, {}), patch_size=8)
    batch = builder.build(np.random.default_rng(0), loaded, 4, NO_AUGMENT)
    mask = batch["loc_mask"]
    assert mask.any() and (batch["offset_targets"][mask].abs() <= 2.0).all()
    assert (batch["patch_labels"] > 0).sum(-1).min() > 0  # every scene has object patches

