"""Message types of a bag: rosbags' typestore for the bag's metadata, rclpy classes for (de)serialising.

The bag's connections carry each type's definition (so `ros2 bag` and Foxglove can read our own
vlm_ros_interfaces messages); our .msg files are registered with rosbags from the installed
package. Payloads are CDR bytes exactly as the middleware carried them.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from typing import Any

# What `vlm-ros record` takes by default: relative names resolve in the recorder's namespace.
DEFAULT_TOPICS: dict[str, str] = {
    "image": "sensor_msgs/msg/Image",
    "image/compressed": "sensor_msgs/msg/CompressedImage",
    "depth": "sensor_msgs/msg/Image",
    "camera_info": "sensor_msgs/msg/CameraInfo",
    "camera_pose": "geometry_msgs/msg/TransformStamped",
    "instruction": "std_msgs/msg/String",
    "plan": "vlm_ros_interfaces/msg/ActionPlan",
    "/tf": "tf2_msgs/msg/TFMessage",
    "/tf_static": "tf2_msgs/msg/TFMessage",
}


def message_class(type_name: str) -> Any:
    """'sensor_msgs/msg/Image' → the rclpy message class."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


def _interface_dir() -> Path:
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("vlm_ros_interfaces")) / "msg"
    except Exception:  # not on the ament index: the source tree
        return Path(__file__).resolve().parents[2] / "vlm_ros_interfaces" / "msg"


@lru_cache(maxsize=1)
def typestore() -> Any:
    """rosbags typestore of ROS 2 (the Kilted standard types) plus vlm_ros_interfaces."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    types: dict[str, Any] = {}
    for path in sorted(_interface_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"vlm_ros_interfaces/msg/{path.stem}"))
    store.register(types)
    return store
