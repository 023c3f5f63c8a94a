"""sim_bridge: the PyBullet tabletop as a ROS 2 robot.

Publishes `image` (rgb8), `depth` (32FC1, m) and `camera_info` with one sim-time stamp
(sensor-data QoS), the camera→base transform on `camera_pose` (transient local) and
/clock; serves `execute_plan` (vlm_ros_interfaces/ExecutePlan) with the sim Executor,
and, for benchmarks and demos, `reset_scene` (ResetScene) and `check_task` (CheckTask).
After each reset it publishes the ground-truth program on `oracle/program` (latched), which
the grounding node's `oracle` backend reads to measure everything but the model.
One lock serialises every PyBullet call.
"""

from __future__ import annotations

import threading
from typing import Any

from geometry_msgs.msg import Point, TransformStamped
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from vlm_ros.core.types import PlanStatus, RGBDFrame
from vlm_ros.geometry.transforms import matrix_to_pose
from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros.ros.msg_conversion import plan_from_msg, time_msg
from vlm_ros.ros.parameters import descriptor
from vlm_ros.ros.spin import spin_node
from vlm_ros.sim.bridge_parameters import SIM_BRIDGE_PARAMETERS
from vlm_ros.sim.camera import CameraConfig
from vlm_ros.sim.executor import Executor
from vlm_ros.sim.faults import FaultInjector, faults_from_parameters
from vlm_ros.sim.oracle import oracle_plan
from vlm_ros.sim.scene import TIME_STEP, TabletopSim
from vlm_ros.sim.tasks import TASKS, Episode
from vlm_ros_interfaces.action import ExecutePlan
from vlm_ros_interfaces.msg import StepResult
from vlm_ros_interfaces.srv import CheckTask, ResetScene

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def camera_info_msg(frame: RGBDFrame) -> CameraInfo:
    k = frame.intrinsics
    msg = CameraInfo(width=k.width, height=k.height, distortion_model="plumb_bob")
    msg.header.stamp, msg.header.frame_id = time_msg(frame.stamp_ns), frame.frame_id
    msg.k = [k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0]
    msg.p = [k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.d = [0.0] * 5
    return msg


class SimBridgeNode(Node):
    def __init__(self, **kwargs: Any):
        super().__init__("sim_bridge", **kwargs)
        for spec in SIM_BRIDGE_PARAMETERS:
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
        p = {spec.name: self.get_parameter(spec.name).value for spec in SIM_BRIDGE_PARAMETERS}
        if p["task"] and p["task"] not in TASKS:
            raise ValueError(f"unknown task {p['task']!r}; known: {', '.join(TASKS)}")
        self.params = p
        camera = CameraConfig(eye=tuple(p["camera_eye"]), target=tuple(p["camera_target"]),
                              fov_y_deg=p["camera_fov_y_deg"])
        self.sim = TabletopSim(gui=p["gui"], width=p["width"], height=p["height"], camera=camera)
        self.sim.camera.frame_id = p["camera_frame"]
        self.sim.real_time = p["real_time"]
        self.faults = FaultInjector(faults_from_parameters(p))
        self.plan_executor = Executor(self.sim, faults=self.faults)
        self.sim_lock = threading.Lock()  # PyBullet is not thread-safe
        self._next_seed = p["seed"]
        self.episode: Episode | None = None
        self.plan_status: PlanStatus | None = None  # of the last plan executed since the reset
        self._period = 1.0 / p["rate_hz"]

        self.image_pub = self.create_publisher(Image, "image", qos_profile_sensor_data)
        self.depth_pub = self.create_publisher(Image, "depth", qos_profile_sensor_data)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
        self.pose_pub = self.create_publisher(TransformStamped, "camera_pose", LATCHED)
        self.clock_pub = self.create_publisher(Clock, "/clock", 10) if p["publish_clock"] else None
        self.oracle_pub = self.create_publisher(String, "oracle/program", LATCHED)

        with self.sim_lock:
            self._reset(p["task"], -1, "")
        self._publish_camera_pose()
        self.create_timer(self._period, self._tick, callback_group=MutuallyExclusiveCallbackGroup())
        group = ReentrantCallbackGroup()
        ActionServer(self, ExecutePlan, "execute_plan", self._on_execute, callback_group=group,
                     goal_callback=lambda _goal: GoalResponse.ACCEPT,
                     cancel_callback=lambda _goal: CancelResponse.ACCEPT)  # halts the arm within a waypoint
        self.create_service(ResetScene, "reset_scene", self._on_reset, callback_group=group)
        self.create_service(CheckTask, "check_task", self._on_check, callback_group=group)
        self.get_logger().info(f"ready: task {p['task'] or 'random'}, {p['width']}x{p['height']} at {p['rate_hz']} Hz"
                               + (f", faults {self.faults.config.to_text()}" if self.faults.config.active else ""))

    # --- scene ------------------------------------------------------------------------------------------
    def _reset(self, task: str, seed: int, template: str) -> ResetScene.Response:
        """Lay out `task`'s scene for `seed` (negative: the next seed); caller holds sim_lock."""
        if seed < 0:
            seed = self._next_seed
            self._next_seed += 1
        if task and task not in TASKS:
            return ResetScene.Response(success=False, message=f"unknown task {task!r}; known: {', '.join(TASKS)}")
        self.plan_executor.scene_reset()  # the sim's reset releases the suction; the executor must know
        self.faults.configure(faults_from_parameters(  # fault_* may be changed at runtime: read at every reset
            {spec.name: self.get_parameter(spec.name).value for spec in SIM_BRIDGE_PARAMETERS}))
        self.faults.reset(seed)
        if task:
            self.episode = TASKS[task].sample(self.sim, seed, template or None)
            self.oracle_pub.publish(String(data=oracle_plan(self.sim, self.episode)[0]))
            # the new scene's frame goes out only once the oracle readers hold its program, so a request
            # grounded on that frame cannot meet the previous scene's program
            self.oracle_pub.wait_for_all_acked(Duration(seconds=1.0))
        else:
            self.episode = None
            self.sim.reset(seed)
        self.plan_status = None
        return ResetScene.Response(success=True, task=task, seed=seed,
                                   instruction=self.episode.instruction if self.episode else "",
                                   objects=[o.label for o in self.sim.objects()],
                                   positions=[Point(x=float(x), y=float(y), z=float(z))
                                              for x, y, z in (o.position() for o in self.sim.objects())])

    def _on_reset(self, request: ResetScene.Request, response: ResetScene.Response) -> ResetScene.Response:
        with self.sim_lock:
            response = self._reset(request.task or self.params["task"], request.seed, request.instruction_template)
            if response.success:
                self.sim.step(1)  # a new stamp, so "frames after the reset" is well defined
                response.stamp = self._publish_frame()
        return response

    def _on_check(self, _request: CheckTask.Request, response: CheckTask.Response) -> CheckTask.Response:
        with self.sim_lock:
            if self.episode is None:
                response.success, response.reason = False, "no task: the bridge runs random scenes"
                return response
            # no plan executed since the reset means nothing was asked to move: as good as REFUSED
            status = self.plan_status or PlanStatus.REFUSED
            response.success, response.reason = TASKS[self.episode.task].check(self.sim, self.episode, status)
            if self.plan_status is None and not response.success:
                response.reason = f"no plan was executed since the reset ({response.reason})"
        return response

    # --- camera -----------------------------------------------------------------------------------------
    def _tick(self) -> None:
        """Advance physics by one period of wall time and publish a frame, unless a plan is running."""
        if not self.sim_lock.acquire(blocking=False):
            return  # the executing plan publishes frames itself
        try:
            self.sim.step(max(1, round(self._period / TIME_STEP)))
            self._publish_frame()
        finally:
            self.sim_lock.release()

    def _publish_frame(self):
        """Render and publish image, depth and camera_info with one stamp (returned); caller holds sim_lock."""
        frame = self.sim.render()
        stamp = time_msg(frame.stamp_ns)
        for pub, msg in ((self.image_pub, numpy_to_image(frame.rgb, "rgb8")),
                         (self.depth_pub, numpy_to_image(frame.depth, "32FC1")),
                         (self.info_pub, camera_info_msg(frame))):
            msg.header.stamp, msg.header.frame_id = stamp, frame.frame_id
            pub.publish(msg)
        if self.clock_pub is not None:
            self.clock_pub.publish(Clock(clock=stamp))
        return stamp

    def _publish_camera_pose(self) -> None:
        msg = TransformStamped()
        msg.header.stamp = time_msg(self.sim.time_ns())
        msg.header.frame_id, msg.child_frame_id = self.params["base_frame"], self.params["camera_frame"]
        x, y, z, qx, qy, qz, qw = matrix_to_pose(self.sim.camera_to_base)
        t, r = msg.transform.translation, msg.transform.rotation
        t.x, t.y, t.z, r.x, r.y, r.z, r.w = x, y, z, qx, qy, qz, qw
        self.pose_pub.publish(msg)

    # --- execution --------------------------------------------------------------------------------------
    def _on_execute(self, goal_handle) -> ExecutePlan.Result:
        plan = plan_from_msg(goal_handle.request.plan)

        def feedback(index: int, total: int, detail: str) -> None:
            goal_handle.publish_feedback(ExecutePlan.Feedback(step=index, total_steps=total, detail=detail))
            self._publish_frame()

        with self.sim_lock:
            self.plan_status = plan.status
            outcome = self.plan_executor.execute(plan, feedback, lambda: goal_handle.is_cancel_requested)
            finished = self._publish_frame()  # the first frame that shows the outcome
        if outcome.cancelled and goal_handle.is_cancel_requested:
            goal_handle.canceled()  # the arm halted where it was, suction held (see vlm_ros.sim.executor)
        else:
            goal_handle.succeed()  # the action ran; `success` says whether the plan did
        return ExecutePlan.Result(
            success=outcome.success, message=outcome.message, stamp=finished,
            results=[StepResult(index=r.index, success=r.success, message=r.reason or r.detail)
                     for r in outcome.results])

    def destroy_node(self) -> None:
        with self.sim_lock:
            self.sim.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    spin_node(SimBridgeNode, args, threads=3)


if __name__ == "__main__":
    main()
