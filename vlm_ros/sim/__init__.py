"""PyBullet tabletop simulation: the robot, camera, tasks and executor that prove vlm_ros end to end.

Plain Python; never imports rclpy (the ROS bridge lives in bridge_node.py).
"""

from vlm_ros.sim.camera import CameraConfig
from vlm_ros.sim.objects import SceneObject
from vlm_ros.sim.scene import TabletopSim
from vlm_ros.sim.workspace import SPAWN_AREA, WORKSPACE

__all__ = ["SPAWN_AREA", "WORKSPACE", "CameraConfig", "SceneObject", "TabletopSim"]
