"""Projection and transforms: round trips and the depth edge cases a real sensor produces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import CameraIntrinsics
from vlm_ros.geometry.projection import Projector, back_project, depth_at, project
from vlm_ros.geometry.transforms import matrix_to_pose, pose_to_matrix, transform_point

K = CameraIntrinsics(fx=525.0, fy=525.0, cx=320.0, cy=240.0, width=640, height=480)
finite = st.floats(-1.0, 1.0)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 639.0), st.floats(0.0, 479.0), st.floats(0.1, 5.0))
def test_back_project_then_project_is_identity(u, v, z):
    assert np.allclose(project(back_project(u, v, z, K), K), (u, v), atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.tuples(finite, finite, finite), st.tuples(finite, finite, finite, finite).filter(
    lambda q: np.linalg.norm(q) > 0.1))
def test_pose_matrix_round_trip(position, quaternion):
    unit = np.asarray(quaternion) / np.linalg.norm(quaternion)  # pose_to_matrix rejects non-unit ones
    matrix = pose_to_matrix([*position, *unit])
    assert np.allclose(pose_to_matrix(matrix_to_pose(matrix)), matrix, atol=1e-9)
    assert np.allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3), atol=1e-9)


def test_depth_at_ignores_holes_and_uses_the_median():
    depth = np.full((10, 10), 0.8, np.float32)
    depth[5, 5] = np.nan
    depth[4, 4] = 0.0
    depth[6, 6] = 3.0  # a flying pixel
    assert depth_at(depth, 5, 5) == pytest.approx(0.8)


@pytest.mark.parametrize("u,v", [(-1, 5), (5, 10), (100, 100)])
def test_depth_at_outside_the_image(u, v):
    with pytest.raises(InputError, match="outside"):
        depth_at(np.ones((10, 10), np.float32), u, v)


def test_projector_lands_on_the_table_below_a_downward_camera():
    down = np.eye(4)
    down[:3, :3] = [[0, -1, 0], [-1, 0, 0], [0, 0, -1]]
    down[:3, 3] = [0.5, 0.0, 0.8]
    depth = np.full((480, 640), 0.8, np.float32)
    point = Projector(down).to_base(320.0 + 52.5, 240.0, depth, K)  # 52.5 px right = 0.08 m at 0.8 m
    assert np.allclose(point, [0.5, -0.08, 0.0], atol=1e-6)
    assert np.allclose(transform_point(np.eye(4), point), point)


def test_zero_quaternion_is_rejected():
    with pytest.raises(ValueError, match="quaternion"):
        pose_to_matrix([0, 0, 0, 0, 0, 0, 0])


def test_objects_placed_at_one_target_are_spread_on_a_ring():
    from vlm_ros.core.types import Primitive, PrimitiveType
    from vlm_ros.grounding.pipeline import spread_shared_places

    bowl = np.array([0.5, 0.0, 0.01])
    steps = [Primitive(PrimitiveType.PICK, "red block", position=np.array([0.4, 0.1, 0.04]))]
    steps += [Primitive(PrimitiveType.PLACE, "green bowl", position=bowl + np.array([0.002 * i, 0, 0]))
              for i in range(3)]
    steps += [Primitive(PrimitiveType.PLACE, "blue bowl", position=np.array([0.6, 0.1, 0.01]))]
    spread_shared_places(steps, 0.03)
    places = np.array([s.position for s in steps[1:4]])
    assert np.allclose(np.linalg.norm(places[:, :2] - (bowl[:2] + np.array([0.002, 0])), axis=1), 0.03)
    assert min(np.linalg.norm(a - b) for i, a in enumerate(places) for b in places[i + 1:]) > 0.04
    assert np.allclose(steps[0].position, [0.4, 0.1, 0.04]) and np.allclose(steps[4].position, [0.6, 0.1, 0.01])
