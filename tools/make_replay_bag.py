"""Record the small sim session shipped in tests/data/ for the replay test, through a real graph.

In one process: a camera node publishes sim renders (16:9, PNG-compressed colour, 16UC1 depth,
camera_info, a latched camera_pose), grounding_node grounds one instruction per scene through its
`ground` service, and `vlm-ros record`'s BagRecorder writes what was on the wire. Every plan in
the bag is what the node published.

    .venv/bin/python tools/make_replay_bag.py --out tests/data/sim_session --episodes 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tests/data/sim_session")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=930_000)
    parser.add_argument("--width", type=int, default=424)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--backend", default="torch")
    args = parser.parse_args()

    import rclpy
    from geometry_msgs.msg import TransformStamped
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, CompressedImage, Image

    from vlm_ros.bags.recorder import BagRecorder
    from vlm_ros.bags.types import DEFAULT_TOPICS
    from vlm_ros.geometry.transforms import matrix_to_pose
    from vlm_ros.ros.camera_geometry import LATCHED
    from vlm_ros.ros.dds_profile import use_large_data_profile
    from vlm_ros.ros.grounding_node import GroundingNode
    from vlm_ros.ros.image_conversion import numpy_to_image, rgb8_to_compressed
    from vlm_ros.ros.msg_conversion import time_msg
    from vlm_ros.ros.spin import BackgroundSpin
    from vlm_ros.sim.bridge_node import camera_info_msg
    from vlm_ros.sim.scene import TabletopSim
    from vlm_ros.sim.tasks import TASKS
    from vlm_ros_interfaces.srv import GroundInstruction

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    namespace = "/cell"
    use_large_data_profile()
    rclpy.init()
    grounding = GroundingNode(namespace=namespace, parameter_overrides=[
        Parameter("backend", value=args.backend), Parameter("use_compressed", value=True),
        Parameter("execute_plan_action", value=""), Parameter("frame_wait_s", value=5.0)])
    topics = {n: DEFAULT_TOPICS[n] for n in ("image/compressed", "depth", "camera_info", "camera_pose", "plan")}
    recorder = BagRecorder(out, topics, "mcap", namespace=namespace)
    camera = Node("sim_camera", namespace=namespace)
    image_pub = camera.create_publisher(CompressedImage, "image/compressed", qos_profile_sensor_data)
    depth_pub = camera.create_publisher(Image, "depth", qos_profile_sensor_data)
    info_pub = camera.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
    pose_pub = camera.create_publisher(TransformStamped, "camera_pose", LATCHED)
    client = camera.create_client(GroundInstruction, "ground")
    executor = BackgroundSpin(grounding, recorder, camera, threads=4)

    names = list(TASKS)
    with TabletopSim(gui=False, width=args.width, height=args.height) as sim:
        pose = TransformStamped()
        pose.header.frame_id, pose.child_frame_id = "base_link", "camera_color_optical_frame"
        x, y, z, qx, qy, qz, qw = matrix_to_pose(sim.camera_to_base)
        t, r = pose.transform.translation, pose.transform.rotation
        t.x, t.y, t.z, r.x, r.y, r.z, r.w = x, y, z, qx, qy, qz, qw
        pose_pub.publish(pose)
        assert client.wait_for_service(timeout_sec=30.0)
        for i in range(args.episodes):
            episode = TASKS[names[i % len(names)]].sample(sim, args.seed + i)
            frame = sim.render()
            stamp_ns = camera.get_clock().now().nanoseconds
            depth_mm = np.nan_to_num(np.round(frame.depth * 1000.0), nan=0.0).clip(0, 65535).astype(np.uint16)
            msgs = [(image_pub, rgb8_to_compressed(frame.rgb, "png")), (depth_pub, numpy_to_image(depth_mm, "16UC1")),
                    (info_pub, camera_info_msg(frame))]
            seen = grounding.cache.received["image"]
            for _attempt in range(5):  # best effort: publish again only when it was lost
                for pub, msg in msgs:
                    msg.header.stamp, msg.header.frame_id = time_msg(stamp_ns), frame.frame_id
                    pub.publish(msg)
                deadline = time.monotonic() + 1.0
                while grounding.cache.received["image"] == seen and time.monotonic() < deadline:
                    time.sleep(0.02)
                if grounding.cache.received["image"] > seen:
                    break
            request = GroundInstruction.Request(instruction=episode.instruction, not_before=time_msg(stamp_ns))
            result = client.call(request, timeout_sec=60.0)
            print(f"[{i + 1}/{args.episodes}] {episode.instruction!r} → {result.plan.status} {result.plan.message}")
        time.sleep(0.5)
    counts = recorder.close()
    executor.stop()
    rclpy.shutdown()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out} ({size / 1e6:.2f} MB): {counts}")


if __name__ == "__main__":
    main()
