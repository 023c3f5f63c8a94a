"""Issue 11 point 3: stamps, transforms, pixels, boxes, labels and push end points are checked.

Plain Python, through the real pipeline, parser and projector; the ROS-graph view of the same
checks is in tests/test_hostile_inputs.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import TransformStamped
from sensor_msgs.msg import Image

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import PlanStatus
from vlm_ros.geometry.transforms import pose_to_matrix
from vlm_ros.grounding.input_checks import check_stamp
from vlm_ros.grounding.labels import mentioned
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig
from vlm_ros.qa.model_outputs import EchoOrFixedGrounder, downward_camera, table_frame
from vlm_ros.ros.frame_cache import FrameCache, stamp_ns
from vlm_ros.ros.msg_conversion import transform_msg_to_matrix

S = 1_000_000_000
NOW = 1_000 * S


@pytest.mark.parametrize("stamp,words", [
    (0, "stamped 0"),
    (NOW + 2 * S, "2.000 s in the future"),
    (NOW - 3 * S, "3.0 s old"),
])
def test_bad_stamps_are_errors_naming_the_stamp(stamp, words):
    with pytest.raises(InputError, match=words):
        check_stamp(stamp, NOW, max_age_s=2.0, max_skew_s=1.0)


def test_good_stamps_and_an_unset_clock_pass():
    check_stamp(NOW - S, NOW, 2.0, 1.0)
    check_stamp(NOW + S // 2, NOW, 2.0, 1.0)  # within the skew allowed between machines
    check_stamp(0, 0, 2.0, 1.0)  # sim time before /clock: nothing to compare


def test_overflowing_nanoseconds_are_not_silently_accepted():
    image = Image()
    image.header.frame_id = "camera_color_optical_frame"
    image.header.stamp = Time(sec=10, nanosec=1_500_000_000)  # uint32 allows it; it would read as 11.5 s
    with pytest.raises(InputError, match="nanosec 1500000000"):
        stamp_ns(image)
    cache = FrameCache()
    cache.add_image(image)  # the cache keeps it (a callback must not raise) ...
    assert cache.latest().image is image  # ... and the frame fails when used
    image.header.stamp = Time(sec=10, nanosec=999_999_999)
    assert stamp_ns(image) == 10 * S + 999_999_999


def _transform(t=(0.5, 0.0, 0.8), q=(0.0, 0.0, 0.0, 1.0)) -> TransformStamped:
    msg = TransformStamped()
    msg.header.frame_id, msg.child_frame_id = "base_link", "camera_color_optical_frame"
    msg.transform.translation.x, msg.transform.translation.y, msg.transform.translation.z = t
    r = msg.transform.rotation
    r.x, r.y, r.z, r.w = q
    return msg


@pytest.mark.parametrize("t,q,reason", [
    ((0.5, 0.0, 0.8), (math.nan, 0.0, 0.0, 1.0), "not finite"),
    ((0.5, 0.0, 0.8), (0.0, 0.0, 0.0, 0.0), "is zero"),
    ((0.5, 0.0, 0.8), (0.0, 0.0, 0.0, 2.0), "not unit length"),
    ((0.5, 0.0, 0.8), (0.0, 0.0, 0.5, 0.5), "not unit length"),
    ((math.nan, 0.0, 0.8), (0.0, 0.0, 0.0, 1.0), "translation"),
    ((0.5, math.inf, 0.8), (0.0, 0.0, 0.0, 1.0), "translation"),
])
def test_bad_transforms_are_rejected_with_the_reason(t, q, reason):
    with pytest.raises(ValueError, match=reason):
        transform_msg_to_matrix(_transform(t, q))
    with pytest.raises(ValueError, match=reason):
        pose_to_matrix([*t, *q])


def test_a_nearly_unit_quaternion_is_normalised():
    matrix = transform_msg_to_matrix(_transform(q=(0.0, 0.0, 0.0, 1.004)))
    assert np.allclose(matrix[:3, :3], np.eye(3))


def _plan(output: str, instruction: str = "pick the red block", vocabulary="closed", push_distance=0.10):
    grounder = EchoOrFixedGrounder(None if vocabulary == "open" else EchoOrFixedGrounder().vocabulary)
    grounder.output = output
    config = PipelineConfig(max_frame_age_s=0.0, push_distance=push_distance)
    return GroundingPipeline(grounder, downward_camera(), config).run(table_frame(1), instruction, now_ns=1)


@pytest.mark.parametrize("output,words", [
    ("pick(red block) @ (64, 24)", "outside the 64x48 image"),
    ("pick(red block) @ (-1, 24)", "outside the 64x48 image"),
    ("pick(red block) @ (3000000000, 24)", "outside the 64x48 image"),
    ("pick(red block) @ (" + "9" * 400 + ", 24)", "non-finite"),
    ("pick(red block) @ [40, 20, 30, 28]", "inverted box"),
    ("pick(red block) @ [28, 20, 100, 28]", "outside the 64x48 image"),
    ("pick(red block) @ [30, 20, 30.5, 28]", "smaller than one pixel"),
    ("pick(red block) @ [0, 0, 64, 48]", "covering 100%"),
    ("pick(red dragon) @ (32, 24)", "not an object this model knows"),
])
def test_impossible_model_output_is_an_error(output, words):
    plan = _plan(output)
    assert plan.status is PlanStatus.ERROR and words in plan.message, plan.message


def test_open_vocabulary_labels_must_come_from_the_instruction():
    assert _plan("pick(red mug) @ (32, 24)", "pick up the red mug", vocabulary="open").ok
    plan = _plan("pick(blue mug) @ (32, 24)", "pick up the red mug", vocabulary="open")
    assert plan.status is PlanStatus.ERROR and "not in the instruction" in plan.message
    assert _plan("pick(red mug) @ (32, 24) ; place(left side)", "put the red mug left", vocabulary="open").ok


def test_push_end_points_are_validated_like_every_target():
    assert _plan("push(red block, left) @ (32, 24)", "push the red block left").ok
    plan = _plan("push(red block, left) @ (32, 24)", "push the red block left", push_distance=0.5)
    assert plan.status is PlanStatus.REFUSED and "would push the red block" in plan.message, plan.message
    assert "outside the workspace" in plan.message


@pytest.mark.parametrize("instruction,refused,expect", [
    ("pick the purple block", "purple block", "I can't see a purple block"),
    ("pick up the purple cubes", "purple block", "I can't see a purple block"),
    ("flibber the wobble", "purple block", "did not understand"),
    ("pick the red block", "purple block", "did not understand"),
])
def test_a_refusal_names_only_what_the_user_asked_for(instruction, refused, expect):
    plan = _plan(f"refuse({refused})", instruction)
    assert plan.status is PlanStatus.REFUSED and expect in plan.message, plan.message
    if "did not" in expect:
        assert refused not in plan.message


def test_mentioned_handles_synonyms_and_plurals():
    assert mentioned("green bowl", "put it in the green dish")
    assert mentioned("gray block", "the grey blocks")
    assert mentioned("red box", "all the red boxes") and mentioned("cherry", "two cherries")
    assert mentioned("red block", "put the red cubes away")
    assert not mentioned("green bowl", "the green block")


def test_only_place_and_move_to_may_target_a_named_location():
    assert _plan("pick(red block) @ (32, 24) ; place(left side)", "put the red block left").ok
    assert _plan("push(left side, back) @ (32, 24)", "push the red block back").status is PlanStatus.ERROR


def test_every_shipped_grounder_declares_the_tabletop_vocabulary():
    from vlm_ros.engines.grounder import EngineGrounder
    from vlm_ros.grounding.labels import TABLETOP_VOCABULARY
    from vlm_ros.grounding.oracle import OracleGrounder
    from vlm_ros.grounding.pipeline import grounder_vocabulary
    from vlm_ros.grounding.test_backend import FixedProgramTestGrounder
    from vlm_ros.models.torch_grounder import TorchGrounder

    assert TorchGrounder.vocabulary == EngineGrounder.vocabulary == TABLETOP_VOCABULARY
    assert OracleGrounder().vocabulary == FixedProgramTestGrounder("home()").vocabulary == TABLETOP_VOCABULARY
    assert len(TABLETOP_VOCABULARY) == 22 and "gray bowl" in TABLETOP_VOCABULARY
    assert grounder_vocabulary(object()) == TABLETOP_VOCABULARY  # undeclared: held to the closed world

    class OpenFamily:  # the issue-12 families' spelling of "open vocabulary"
        open_vocabulary = True
        vocabulary = TABLETOP_VOCABULARY
    assert grounder_vocabulary(OpenFamily()) is None


@pytest.mark.ros
@pytest.mark.parametrize("pose", [[math.nan, 0, 0.8, 0, 0, 0, 1], [0.5, 0, 0.8, 0, 0, 0, 0]])
def test_a_bad_camera_to_base_parameter_keeps_the_node_from_activating(pose):
    """The lifecycle node refuses to go active on a transform it cannot use (the log names why)."""
    import rclpy
    from rclpy.parameter import Parameter

    from vlm_ros.ros.grounding_node import GroundingNode
    from vlm_ros.ros.lifecycle import SUCCESS

    rclpy.init()
    try:
        node = GroundingNode(namespace="/bad_pose", parameter_overrides=[
            Parameter("backend", value="test-fixed"), Parameter("test_program", value="home()"),
            Parameter("camera_to_base", value=[float(v) for v in pose]), Parameter("execute_plan_action", value=""),
            Parameter("autostart", value=False)])
        # configure loads the pipeline with the parameter (the log names the reason); it must not reach active
        assert not (node.trigger_configure() == SUCCESS and node.trigger_activate() == SUCCESS)
        node.destroy_node()
    finally:
        rclpy.shutdown()
