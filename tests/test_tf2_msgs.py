"""The tf2_msgs built into the venv is wire-compatible with ROS 2's: same type hash as Kilted's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_tfmessage_type_hash_matches_ros2_kilted():
    import tf2_msgs.msg
    from rosbags.typesys import Stores, get_typestore

    share = Path(tf2_msgs.msg.__file__).resolve().parents[5] / "share" / "tf2_msgs" / "msg" / "TFMessage.json"
    if not share.exists():  # a full ROS install: tf2_msgs is ROS's own
        pytest.skip(f"no generated type description at {share}")
    ours = json.loads(share.read_text())["type_hashes"][0]
    assert ours["type_name"] == "tf2_msgs/msg/TFMessage"
    assert ours["hash_string"] == get_typestore(Stores.ROS2_KILTED).hash_rihs01("tf2_msgs/msg/TFMessage")
    fields = tf2_msgs.msg.TFMessage.get_fields_and_field_types()
    assert fields == {"transforms": "sequence<geometry_msgs/TransformStamped>"}
