"""How many camera-sized frames a best-effort subscriber on this machine receives, per Fast DDS profile.

Publishes 640x480 rgb8 and 32FC1 images (0.9 and 1.2 MB) at 5 Hz from a child process and
counts what a subscriber in this process receives. `--profile vlm_ros` (our
fastdds_large_data.xml), `default` (Fast DDS's built-in transports), or a path to any profile.

    .venv/bin/python tools/dds_frame_loss.py --frames 50 --profile default
    .venv/bin/python tools/dds_frame_loss.py --frames 50 --profile vlm_ros
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

PUBLISHER = """
import sys, time, numpy as np, rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
rclpy.init()
node = rclpy.create_node("frame_loss_publisher")
pubs = [node.create_publisher(Image, t, qos_profile_sensor_data) for t in ("image", "depth")]
msgs = [Image(height=480, width=640, encoding=e, step=640 * b, data=bytes(480 * 640 * b))
        for e, b in (("rgb8", 3), ("32FC1", 4))]
while min(p.get_subscription_count() for p in pubs) == 0:
    time.sleep(0.05)
time.sleep(1.0)
for k in range(int(sys.argv[1])):
    for pub, msg in zip(pubs, msgs):
        msg.header.stamp.sec = k
        pub.publish(msg)
    time.sleep(0.2)
time.sleep(1.0)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--profile", default="vlm_ros", help="vlm_ros | default | PATH to a Fast DDS XML profile")
    parser.add_argument("--domain", type=int, default=93)
    args = parser.parse_args()
    from vlm_ros.ros.dds_profile import PROFILE_PATH, PROFILE_VARIABLES

    env = dict(os.environ, ROS_DOMAIN_ID=str(args.domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    for name in PROFILE_VARIABLES:
        env.pop(name, None)
    if args.profile != "default":
        env[PROFILE_VARIABLES[0]] = str(PROFILE_PATH if args.profile == "vlm_ros" else args.profile)
    os.environ.clear()
    os.environ.update(env)  # this process's participant is made with the same profile

    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    rclpy.init()
    node = rclpy.create_node("frame_loss_subscriber")
    received: dict[str, set[int]] = {"image": set(), "depth": set()}
    for topic, seen in received.items():
        node.create_subscription(Image, topic, lambda m, s=seen: s.add(m.header.stamp.sec), qos_profile_sensor_data)
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(args.frames)], env=env)
    while publisher.poll() is None:
        rclpy.spin_once(node, timeout_sec=0.05)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(f"profile {args.profile}: received image {len(received['image'])}/{args.frames}, "
          f"depth {len(received['depth'])}/{args.frames}")
    node.destroy_node()
    rclpy.try_shutdown()
    return publisher.returncode


if __name__ == "__main__":
    sys.exit(main())
