"""The tabletop scene and camera, with real PyBullet in DIRECT mode."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vlm_ros.core.vocabulary import COLORS
from vlm_ros.sim import SPAWN_AREA, CameraConfig, TabletopSim
from vlm_ros.sim.layout import LayoutError
from vlm_ros.sim.objects import footprint_radius

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def sim():
    with TabletopSim() as s:
        yield s


def _layout(objs):
    return [(o.label, tuple(np.round(o.position(), 6))) for o in objs]


def test_same_seed_same_scene_and_image(sim):
    first = _layout(sim.reset(7))
    image = sim.render().rgb
    sim.reset(8)
    assert _layout(sim.reset(7)) == first
    assert np.array_equal(sim.render().rgb, image)
    with TabletopSim() as fresh:
        assert _layout(fresh.reset(7)) == first
        assert np.array_equal(fresh.render().rgb, image)


def test_different_seeds_differ(sim):
    assert _layout(sim.reset(1)) != _layout(sim.reset(2))


def test_layout_in_spawn_area_without_overlap(sim):
    for seed in range(20):
        objs = sim.reset(seed, n_blocks=(5, 5), n_bowls=(3, 3))
        assert sum(o.kind == "block" for o in objs) == 5 and sum(o.kind == "bowl" for o in objs) == 3
        for o in objs:
            assert SPAWN_AREA.contains(o.position() * [1, 1, 0], margin=1e-9)
            assert o.color in COLORS and o.label == f"{o.color} {o.kind}"
        for a, b in itertools.combinations(objs, 2):
            gap = np.linalg.norm(a.position()[:2] - b.position()[:2])
            assert gap > footprint_radius(a.kind) + footprint_radius(b.kind)


def test_given_colours_and_find(sim):
    sim.reset(3, blocks=["red", "red", "blue"], bowls=["green"])
    assert len(sim.find("red block")) == 2
    assert [o.label for o in sim.find("green bowl")] == ["green bowl"]
    assert sim.find("purple block") == []
    with pytest.raises(ValueError, match="unknown colour"):
        sim.reset(3, blocks=["mauve"])
    with pytest.raises(LayoutError):
        sim.reset(3, bowls=["red"] * 12)


def test_objects_rest_on_the_table(sim):
    objs = sim.reset(5)
    before = {o.label: o.position() for o in objs}
    sim.step(120)
    for o in objs:
        assert np.linalg.norm(o.position() - before[o.label]) < 1e-3, o.label
    block = next(o for o in objs if o.kind == "block")
    assert block.top_point()[2] == pytest.approx(0.04, abs=1e-3)
    bowl = next(o for o in objs if o.kind == "bowl")
    assert 0.0 < bowl.top_point()[2] < 0.01


def test_frame_format_and_intrinsics():
    with TabletopSim(width=224, height=168) as small:
        small.reset(0)
        frame = small.render()
        assert frame.rgb.shape == (168, 224, 3) and frame.rgb.dtype == np.uint8
        assert frame.depth.shape == (168, 224) and frame.depth.dtype == np.float32
        k = frame.intrinsics
        assert k.fx == pytest.approx(k.fy) and (k.cx, k.cy) == (111.5, 83.5)
        assert frame.frame_id == "camera_color_optical_frame"
        small.step(24)
        assert small.render().stamp_ns == 100_000_000  # sim time: 24 steps at 240 Hz


def test_camera_pose_is_optical_and_sees_the_workspace(sim):
    rot = sim.camera_to_base[:3, :3]
    assert np.allclose(rot.T @ rot, np.eye(3)) and np.linalg.det(rot) == pytest.approx(1.0)
    assert rot[2, 2] < -0.5  # optical z (forward) points down at the table
    k = sim.intrinsics
    for x, y in itertools.product((0.30, 0.70), (-0.30, 0.30)):
        u, v = sim.project(np.array([x, y, 0.0]))
        assert 10 < u < k.width - 10 and 10 < v < k.height - 10


def test_back_projection_lands_on_the_object_top(sim):
    objs = sim.reset(11, n_blocks=(5, 5), n_bowls=(3, 3))
    frame = sim.render()
    for o in objs:
        top = o.top_point()
        u, v = sim.project(top)
        ui, vi = round(u), round(v)
        depth = float(frame.depth[vi, ui])
        k = frame.intrinsics
        point_cam = np.array([(ui - k.cx) / k.fx * depth, (vi - k.cy) / k.fy * depth, depth, 1.0])
        point_base = (sim.camera_to_base @ point_cam)[:3]
        assert np.linalg.norm(point_base - top) < 0.004, o.label  # mm-level, from pixel rounding
        assert np.argmax(frame.rgb[vi, ui]) == np.argmax(COLORS[o.color]) or o.color in ("white", "gray")


def test_moved_camera_changes_the_view():
    overhead = CameraConfig(eye=(0.5, 0.0, 1.0), up=(1.0, 0.0, 0.0), fov_y_deg=60.0)
    with TabletopSim(width=160, height=120, camera=overhead) as top:
        top.reset(0)
        assert top.camera_to_base[2, 3] == pytest.approx(1.0)
        u, v = top.project(np.array([0.5, 0.0, 0.0]))
        assert (u, v) == pytest.approx((79.5, 59.5), abs=1e-6)
        assert float(top.render().depth[60, 80]) == pytest.approx(1.0, abs=0.01)
