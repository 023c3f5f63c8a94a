"""Every sim bridge parameter, declared once (name, default, description, range); no rclpy here."""

from __future__ import annotations

from vlm_ros.ros.parameters import ParamSpec
from vlm_ros.sim.camera import FRAME_ID, CameraConfig

_CAM = CameraConfig()

SIM_BRIDGE_PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("width", 640, "Rendered image width (px).", 16, 4096),
    ParamSpec("height", 480, "Rendered image height (px).", 16, 4096),
    ParamSpec("rate_hz", 10.0, "Camera publish rate (Hz); physics follows wall time at this granularity while "
              "no plan runs.", 0.1, 120.0),
    ParamSpec("camera_eye", list(_CAM.eye), "Camera position [x, y, z] in the base frame (m)."),
    ParamSpec("camera_target", list(_CAM.target), "Point the camera looks at [x, y, z] in the base frame (m)."),
    ParamSpec("camera_fov_y_deg", _CAM.fov_y_deg, "Vertical field of view (degrees).", 10.0, 120.0),
    ParamSpec("base_frame", "base_link", "Robot base frame: parent of camera_pose, frame of plan poses."),
    ParamSpec("camera_frame", FRAME_ID, "Optical frame id stamped on image, depth and camera_info."),
    ParamSpec("task", "put-block-in-bowl", "Task whose scenes reset_scene lays out (see vlm_ros.sim.tasks); "
              "empty: random blocks and bowls."),
    ParamSpec("seed", 0, "Seed of the first scene; each reset_scene call uses the next one.", 0, 2**31 - 1),
    ParamSpec("publish_clock", True, "Publish /clock with sim time (all stamps are sim time; run consumers "
              "with use_sim_time:=true)."),
    ParamSpec("gui", False, "Open the PyBullet GUI window instead of running headless."),
    ParamSpec("real_time", False, "Run the arm's motion at wall-clock speed, as a real arm moves; false: as fast "
              "as the CPU allows (benchmarks)."),
    # injected faults (vlm_ros.sim.faults), drawn from a stream reseeded with each scene's seed
    ParamSpec("fault_slip", 0.0, "Probability that a carried block slips off during transport (dropped).",
              0.0, 1.0),
    ParamSpec("fault_place_noise", 0.0, "Standard deviation of the release point per horizontal axis (m).",
              0.0, 0.2),
    ParamSpec("fault_nudge", 0.0, "Probability that a placed block is bumped sideways afterwards.", 0.0, 1.0),
    ParamSpec("fault_nudge_distance", 0.10, "How far a bump moves a placed block (m).", 0.0, 0.5),
    ParamSpec("fault_miss_pick", 0.0, "Probability that a grasp fails after contact (nothing grasped).",
              0.0, 1.0),
    ParamSpec("fault_plans", 0, "Faults hit only the first N plans executed after each reset; 0: every plan.",
              0, 1000),
)

