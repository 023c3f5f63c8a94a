"""FrameCache pairs colour and depth by stamp and grounds on the newest complete pair."""

from __future__ import annotations

from sensor_msgs.msg import Image

from vlm_ros.ros.frame_cache import FrameCache, stamp_ns
from vlm_ros.ros.msg_conversion import time_msg

MS = 1_000_000


def image(stamp: int) -> Image:
    msg = Image()
    msg.header.stamp = time_msg(stamp)
    return msg


def test_newest_image_waiting_for_its_depth_does_not_hide_the_last_complete_pair():
    cache = FrameCache(slop_s=0.05)
    for t in (0, 200 * MS):
        cache.add_image(image(t))
        cache.add_depth(image(t))
    cache.add_image(image(400 * MS))  # its depth is still on the way
    frame = cache.latest()
    assert stamp_ns(frame.image) == 200 * MS and stamp_ns(frame.depth) == 200 * MS
    cache.add_depth(image(400 * MS))
    assert stamp_ns(cache.latest().image) == 400 * MS


def test_pairs_within_slop_only():
    cache = FrameCache(slop_s=0.05)
    cache.add_image(image(1000 * MS))
    cache.add_depth(image(1030 * MS))
    assert stamp_ns(cache.latest().depth) == 1030 * MS
    cache = FrameCache(slop_s=0.05)
    cache.add_image(image(1000 * MS))
    cache.add_depth(image(1100 * MS))
    frame = cache.latest()
    assert frame.depth is None and stamp_ns(frame.image) == 1000 * MS
    assert FrameCache().latest() is None
