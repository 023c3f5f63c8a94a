"""Camera ingest: frames stay serialized until used, oversized frames and decompression bombs are refused.

Unit checks on the wire format and the header probe, then the refusals through a real graph.
"""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image

from tests import test_grounding_node as base
from tests.ros_graph import camera_info
from vlm_ros.bench.soak import png_bomb
from vlm_ros.ros.frame_cache import FrameCache, stamp_ns
from vlm_ros.ros.image_conversion import numpy_to_image, rgb8_to_compressed, to_rgb8
from vlm_ros.ros.image_probe import compressed_size
from vlm_ros.ros.lazy_message import LazyMessage, cdr_stamp_ns
from vlm_ros.ros.msg_conversion import time_msg
from vlm_ros_interfaces.msg import ActionPlan

pytestmark = pytest.mark.usefixtures("ros_context")  # the graph tests need rclpy; it was an autouse import
graph, rgb, depth = base.graph, base.rgb, base.depth  # the node tests' fixture and frames


@pytest.mark.parametrize("stamp", [0, 1, 1_700_000_000_123_456_789, 2**31 * 1_000_000_000 - 1])
def test_stamp_is_read_from_the_serialized_bytes(stamp):
    msg = numpy_to_image(np.zeros((2, 3, 3), np.uint8), "rgb8")
    msg.header.stamp, msg.header.frame_id = time_msg(stamp), "camera"
    data = serialize_message(msg)
    assert cdr_stamp_ns(data) == stamp
    lazy = LazyMessage(data, Image)
    assert stamp_ns(lazy) == stamp and lazy.nbytes == len(data)
    assert lazy._msg is None  # nothing deserialized yet
    assert np.array_equal(to_rgb8(lazy.msg), np.zeros((2, 3, 3), np.uint8)) and lazy.msg.header.frame_id == "camera"


def test_cache_deserializes_only_the_pair_it_returns():
    cache = FrameCache(slop_s=0.01)
    lazies = []
    for t in range(4):
        msg = numpy_to_image(np.full((2, 2, 3), t, np.uint8), "rgb8")
        msg.header.stamp = time_msg(t * 100_000_000)
        lazies.append((LazyMessage(serialize_message(msg), Image), LazyMessage(serialize_message(msg), Image)))
        cache.add_image(lazies[-1][0])
        cache.add_depth(lazies[-1][1])
    frame = cache.latest()
    assert stamp_ns(frame.image) == 300_000_000 and frame.image.data[0] == 3
    assert [i._msg is not None for i, _ in lazies] == [False, False, False, True]


def test_header_probe_reads_png_and_jpeg_sizes():
    image = np.zeros((37, 53, 3), np.uint8)
    for fmt in ("png", "jpeg"):
        assert compressed_size(bytes(rgb8_to_compressed(image, fmt).data)) == (53, 37)
    assert compressed_size(png_bomb(3000)) == (3000, 3000)
    assert compressed_size(b"not an image") is None and compressed_size(b"\xff\xd8\xff") is None


@pytest.mark.parametrize("graph", [{"use_compressed": True}], indirect=True)
def test_decompression_bomb_is_refused_before_decoding(graph):
    bomb = CompressedImage(format="png", data=png_bomb(10_000))  # 10000² grey: 300 MB as rgb8, limit 50 MB
    assert len(bomb.data) < 1_000_000
    graph.image_pub = graph.create_publisher(CompressedImage, "image/compressed", 10)
    graph.publish_frame(image=bomb, depth=depth(), info=camera_info())
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.ERROR, plan.message
    assert "refused" in plan.message and "would decode to 300000000 bytes" in plan.message, plan.message
    good = rgb8_to_compressed(rgb(), "png")  # a sane frame after it grounds normally
    graph.publish_frame(image=good, depth=depth(), info=camera_info())
    assert graph.ground("pick the red block").status == ActionPlan.OK


@pytest.mark.parametrize("graph", [{"max_image_bytes": 100_000}], indirect=True)
def test_oversized_frame_is_refused_by_size(graph):
    big = np.zeros((300, 400, 3), np.uint8)  # 360,000 bytes of pixels
    graph.publish_frame(big, np.full((300, 400), 0.8, np.float32), camera_info(400, 300))
    plan = graph.ground("pick the red block")
    assert plan.status == ActionPlan.ERROR and "over max_image_bytes (100000)" in plan.message, plan.message
    graph.publish_frame(rgb(), depth(), camera_info())
    assert graph.ground("pick the red block").status == ActionPlan.OK
