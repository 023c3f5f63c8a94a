"""Record and replay: a real graph into a rosbag2 bag, and the shipped sim session replayed offline."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from vlm_ros.cli import main as cli

DATA = Path(__file__).resolve().parent / "data" / "sim_session"  # tools/make_replay_bag.py wrote it


def test_shipped_bag_is_small_and_readable_by_rosbags():
    from rosbags.rosbag2 import Reader

    size = sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file())
    assert size < 2_000_000
    with Reader(DATA) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        assert topics["/cell/plan"] == "vlm_ros_interfaces/msg/ActionPlan"
        assert topics["/cell/image/compressed"] == "sensor_msgs/msg/CompressedImage"
        assert sum(1 for c, _, _ in reader.messages() if c.topic == "/cell/plan") == 5


def test_replay_of_the_shipped_bag_matches_every_plan(tmp_path):
    out = tmp_path / "replay.json"
    assert cli(["replay", str(DATA), "--backend", "torch", "--threads", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["plans"] == 5 and report["matched"] == 5
    statuses = [c["recorded"].split(":")[0] for c in report["cases"]]
    assert statuses.count("OK") == 4 and statuses.count("REFUSED") == 1  # a refusal is replayed too


def test_replay_with_a_wrong_model_exits_non_zero(tmp_path, capsys):
    out = tmp_path / "replay.json"
    code = cli(["replay", str(DATA), "--backend", "test-fixed", "--test-program",
                "pick(red block) @ (200, 120) ; place(left side) @ (1, 1)", "--json", str(out)])
    assert code == 1
    report = json.loads(out.read_text())
    assert report["matched"] == 0
    assert "REGRESSION" in capsys.readouterr().out
    assert any("status REFUSED → OK" in d for c in report["cases"] for d in c["differences"])


def test_replay_of_a_bag_without_plans_exits_2(tmp_path):
    from rosbags.rosbag2 import Reader

    from vlm_ros.bags.recorder import open_writer
    from vlm_ros.bags.types import typestore

    bag = tmp_path / "empty"
    writer = open_writer(bag, "sqlite3")
    with Reader(DATA) as reader:  # copy the camera messages only
        for connection, stamp, raw in reader.messages():
            if connection.topic != "/cell/plan":
                conn = next((c for c in writer.connections if c.topic == connection.topic), None) or \
                    writer.add_connection(connection.topic, connection.msgtype, typestore=typestore())
                writer.write(conn, stamp, raw)
    writer.close()
    assert cli(["replay", str(bag), "--backend", "test-fixed", "--test-program", "home()"]) == 2


@pytest.mark.ros
def test_recorder_writes_what_was_on_the_wire(tmp_path):
    import rclpy
    from geometry_msgs.msg import TransformStamped
    from rclpy.serialization import deserialize_message
    from rosbags.rosbag2 import Reader
    from std_msgs.msg import String
    from tf2_msgs.msg import TFMessage

    from tests.ros_graph import camera_info, spin_in_background, stamped
    from vlm_ros.bags.recorder import BagRecorder
    from vlm_ros.bags.types import message_class
    from vlm_ros.ros.camera_geometry import LATCHED, TF_STATIC_QOS
    from vlm_ros.ros.image_conversion import numpy_to_image

    rclpy.init()
    try:
        pub_node = rclpy.create_node("bag_source", namespace="/rec")
        pose_pub = pub_node.create_publisher(TransformStamped, "camera_pose", LATCHED)
        static_pub = pub_node.create_publisher(TFMessage, "/tf_static", TF_STATIC_QOS)
        pose = TransformStamped()
        pose.header.frame_id, pose.child_frame_id = "base_link", "camera_color_optical_frame"
        pose.transform.rotation.w = 1.0
        pose_pub.publish(pose)  # before the recorder exists: latched topics must still be recorded
        static_pub.publish(TFMessage(transforms=[pose]))
        recorder = BagRecorder(tmp_path / "bag", namespace="/rec")
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CameraInfo, Image

        image_pub = pub_node.create_publisher(Image, "image", qos_profile_sensor_data)
        info_pub = pub_node.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
        text_pub = pub_node.create_publisher(String, "instruction", 10)
        executor = spin_in_background(recorder, threads=2)
        deadline = time.monotonic() + 10.0
        while recorder.counts["/rec/camera_pose"] == 0 or recorder.count_subscribers("/rec/image") == 0:
            assert time.monotonic() < deadline, f"recorder never matched: {dict(recorder.counts)}"
            time.sleep(0.05)
        rgb = np.arange(48 * 64 * 3, dtype=np.uint8).reshape(48, 64, 3)
        for i in range(3):
            image_pub.publish(stamped(numpy_to_image(rgb, "rgb8"), 1_000_000_000 * (i + 1)))
            info_pub.publish(stamped(camera_info(), 1_000_000_000 * (i + 1)))
            text_pub.publish(String(data=f"put the red block in bowl {i}"))
            time.sleep(0.1)
        deadline = time.monotonic() + 10.0
        while recorder.counts["/rec/instruction"] < 3 or recorder.counts["/rec/image"] < 3:
            assert time.monotonic() < deadline, f"messages missing: {dict(recorder.counts)}"
            time.sleep(0.05)
        counts = recorder.close()
        executor.stop()
        recorder.destroy_node()
        pub_node.destroy_node()
    finally:
        rclpy.shutdown()
    assert counts["/rec/camera_pose"] == 1 and counts["/tf_static"] == 1
    with Reader(tmp_path / "bag") as reader:
        by_topic: dict[str, list] = {}
        for connection, _, raw in reader.messages():
            by_topic.setdefault(connection.topic, []).append(
                deserialize_message(bytes(raw), message_class(connection.msgtype)))
    assert [m.data for m in by_topic["/rec/instruction"]] == [f"put the red block in bowl {i}" for i in range(3)]
    first = by_topic["/rec/image"][0]
    assert first.header.stamp.sec == 1 and bytes(first.data) == rgb.tobytes()
    assert by_topic["/tf_static"][0].transforms[0].child_frame_id == "camera_color_optical_frame"
    shutil.rmtree(tmp_path / "bag")
