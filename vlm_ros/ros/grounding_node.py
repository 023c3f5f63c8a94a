"""grounding_node: camera + instruction → checked ActionPlan, and execution through an executor.

The node is wiring only: ROS messages in, GroundingPipeline (plain Python) in the middle,
messages out. Every failure becomes an ERROR/REFUSED plan; no input makes the node die.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import TransformStamped
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import Plan, PlanStatus, RGBDFrame
from vlm_ros.geometry.transforms import pose_to_matrix
from vlm_ros.grounding.factory import make_grounder
from vlm_ros.grounding.families_factory import family_options
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig, check_instruction
from vlm_ros.grounding.validator import Workspace
from vlm_ros.remote.factory import remote_config
from vlm_ros.ros.frame_cache import FrameCache, stamp_ns
from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros.ros.markers import plan_markers
from vlm_ros.ros.msg_conversion import frame_from_raw, plan_to_msg, time_ns, transform_msg_to_matrix
from vlm_ros.ros.parameters import GROUNDING_PARAMETERS, descriptor
from vlm_ros.ros.spin import spin_node
from vlm_ros.visualization import draw_plan
from vlm_ros_interfaces.action import ExecuteInstruction, ExecutePlan
from vlm_ros_interfaces.msg import ActionPlan
from vlm_ros_interfaces.srv import GroundInstruction

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class GroundingNode(Node):
    def __init__(self, **kwargs: Any):
        super().__init__("grounding_node", **kwargs)
        for spec in GROUNDING_PARAMETERS:
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
        p = {spec.name: self.get_parameter(spec.name).value for spec in GROUNDING_PARAMETERS}
        self.params = p
        self.cache = FrameCache(p["sync_slop_s"])
        self.pipeline: GroundingPipeline | None = None
        self.load_error = ""
        self._load_model(p)

        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=200)
        self._status_counts: Counter[str] = Counter()
        self._last_message = ""
        group = ReentrantCallbackGroup()

        if p["use_compressed"]:
            self.create_subscription(CompressedImage, "image/compressed", self.cache.add_image,
                                     qos_profile_sensor_data, callback_group=group)
        else:
            self.create_subscription(Image, "image", self.cache.add_image, qos_profile_sensor_data,
                                     callback_group=group)
        self.create_subscription(Image, "depth", self.cache.add_depth, qos_profile_sensor_data, callback_group=group)
        self.create_subscription(CameraInfo, "camera_info", self.cache.add_camera_info, qos_profile_sensor_data,
                                 callback_group=group)
        self.create_subscription(TransformStamped, "camera_pose", self._on_camera_pose, LATCHED, callback_group=group)
        self.create_subscription(String, "instruction", self._on_instruction, 10, callback_group=group)
        if p["backend"] == "oracle" and self.pipeline is not None:
            self.create_subscription(String, "oracle/program", lambda m: self.pipeline.grounder.set_program(m.data),
                                     LATCHED, callback_group=group)

        self.plan_pub = self.create_publisher(ActionPlan, "plan", 10)
        self.debug_pub = self.create_publisher(Image, "debug_image", 1)
        self.marker_pub = self.create_publisher(MarkerArray, "markers", 1)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)

        self.create_service(GroundInstruction, "ground", self._on_ground, callback_group=group)
        self.execute_server = ActionServer(
            self, ExecuteInstruction, "execute", self._on_execute, callback_group=group,
            goal_callback=lambda _goal: GoalResponse.ACCEPT, cancel_callback=lambda _goal: CancelResponse.ACCEPT)
        self.executor_client = (
            ActionClient(self, ExecutePlan, p["execute_plan_action"], callback_group=group)
            if p["execute_plan_action"] else None)
        self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics, callback_group=group)
        self.get_logger().info(
            f"ready: model {self.pipeline.model_id if self.pipeline else 'NOT LOADED'}, "
            f"image topic {self.resolve_topic_name('image/compressed' if p['use_compressed'] else 'image')}")

    # --- setup -------------------------------------------------------------------------------------------
    def _load_model(self, p: dict[str, Any]) -> None:
        config = PipelineConfig(
            max_instruction_chars=p["max_instruction_chars"], max_frame_age_s=p["max_frame_age_s"],
            base_frame=p["base_frame"], table_height=p["table_height"], push_distance=p["push_distance"],
            place_spread=p["place_spread"],
            workspace=Workspace(x_range=(p["workspace_min"][0], p["workspace_max"][0]),
                                y_range=(p["workspace_min"][1], p["workspace_max"][1]),
                                z_range=(p["workspace_min"][2], p["workspace_max"][2]),
                                min_reach=p["min_reach"], max_reach=p["max_reach"]))
        try:
            grounder = make_grounder(p["backend"], p["model_path"], p["device"], p["test_program"],
                                     remote=remote_config(p), fallback_backend=p["fallback_backend"],
                                     **family_options(p))
            self.pipeline = GroundingPipeline(grounder, pose_to_matrix(p["camera_to_base"]), config)
        except Exception as error:  # a missing or broken model is reported, not fatal
            self.load_error = f"{type(error).__name__}: {error}"
            self.get_logger().error(f"could not load the model ({p['backend']}): {self.load_error}")

    # --- grounding ---------------------------------------------------------------------------------------
    def _raw_frame(self, not_before_ns: int):
        """The latest frame, waiting up to frame_wait_s for one new enough.

        New enough means stamped at or after `not_before` when the request names one, and
        within max_frame_age_s of now otherwise: a camera stream that dropped a few frames
        (best-effort QoS on a loaded machine) should delay a plan, not fail it. When nothing
        new enough arrives, the stale frame is returned and the pipeline reports its age.
        """
        raw = self.cache.latest()
        max_age_s = self.params["max_frame_age_s"]
        explicit = bool(not_before_ns)
        if not explicit:
            if max_age_s <= 0:
                return raw
            not_before_ns = self.get_clock().now().nanoseconds - int(max_age_s * 1e9)
        deadline = time.monotonic() + self.params["frame_wait_s"]
        # both halves must be new: an old depth image within the sync slop may show the scene before a change
        while raw is None or raw.depth is None or min(stamp_ns(raw.image), stamp_ns(raw.depth)) < not_before_ns:
            if time.monotonic() > deadline:
                if not explicit:
                    return raw
                raise InputError(f"No camera frame stamped at or after {not_before_ns / 1e9:.3f} s arrived "
                                 f"within {self.params['frame_wait_s']:.1f} s.")
            time.sleep(0.01)
            raw = self.cache.latest()
        return raw

    def ground(self, instruction: str, not_before_ns: int = 0) -> Plan:
        """Ground on the latest frame (or the first at/after not_before) and publish plan, debug image, markers."""
        frame: RGBDFrame | None = None
        with self._lock:
            if self.pipeline is None:
                plan = Plan(instruction, PlanStatus.ERROR, f"The model is not loaded: {self.load_error}")
            else:
                try:
                    check_instruction(instruction, self.pipeline.config.max_instruction_chars)  # before any wait
                    raw = self._raw_frame(not_before_ns)
                    frame = frame_from_raw(raw) if raw is not None else None
                    plan = self.pipeline.run(frame, instruction, now_ns=self.get_clock().now().nanoseconds)
                except InputError as error:
                    plan = Plan(instruction, PlanStatus.ERROR, str(error), model_id=self.pipeline.model_id)
                except Exception as error:  # a bug must cost one plan, never the node
                    self.get_logger().error(f"grounding failed: {error!r}")
                    plan = Plan(instruction, PlanStatus.ERROR, f"Internal error while grounding: {error}",
                                model_id=self.pipeline.model_id)
            plan.frame_id = self.params["base_frame"]
            self._record(plan)
        self._publish(plan, frame)
        return plan

    def _record(self, plan: Plan) -> None:
        self._status_counts[plan.status.value] += 1
        self._last_message = plan.message
        if "total" in plan.latency_ms:
            self._latencies.append(plan.latency_ms["total"])
        text = f"{plan.instruction!r} → {plan.status.value}: {plan.message} {plan.raw_output!r}"
        if plan.ok:  # rclpy forbids one call site logging at two severities
            self.get_logger().info(text)
        else:
            self.get_logger().warning(text)

    def _publish(self, plan: Plan, frame: RGBDFrame | None) -> None:
        self.plan_pub.publish(plan_to_msg(plan))
        self.marker_pub.publish(plan_markers(plan))
        if self.params["publish_debug_image"] and frame is not None:
            image = numpy_to_image(draw_plan(frame.rgb, plan), "rgb8")
            image.header.stamp = plan_to_msg(plan).header.stamp
            image.header.frame_id = frame.frame_id
            self.debug_pub.publish(image)

    # --- callbacks ---------------------------------------------------------------------------------------
    def _on_camera_pose(self, msg: TransformStamped) -> None:
        try:
            matrix = transform_msg_to_matrix(msg)
        except ValueError as error:
            self.get_logger().warning(f"ignoring camera_pose: {error}")
            return
        if self.pipeline is not None:
            self.pipeline.projector.camera_to_base = matrix

    def _on_instruction(self, msg: String) -> None:
        if self.params["execute_topic_instructions"]:
            plan = self.ground(msg.data)
            if plan.ok:
                self._execute_plan(plan, None)
        else:
            self.ground(msg.data)

    def _on_ground(self, request: GroundInstruction.Request, response: GroundInstruction.Response):
        response.plan = plan_to_msg(self.ground(request.instruction, time_ns(request.not_before)))
        return response

    def _on_execute(self, goal_handle) -> ExecuteInstruction.Result:
        request = goal_handle.request
        goal_handle.publish_feedback(ExecuteInstruction.Feedback(stage="grounding", detail=request.instruction))
        plan = self.ground(request.instruction, time_ns(request.not_before))
        result = ExecuteInstruction.Result(plan=plan_to_msg(plan))
        if not plan.ok:
            result.success, result.message = False, plan.message
        elif request.dry_run:
            result.success, result.message = True, "Dry run: the plan was grounded and not executed."
        else:
            result.success, result.message, result.step_results = self._execute_plan(plan, goal_handle)
        goal_handle.publish_feedback(ExecuteInstruction.Feedback(stage="done", detail=result.message))
        if result.success:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return result

    def _execute_plan(self, plan: Plan, goal_handle) -> tuple[bool, str, list]:
        """Send the plan to the execute_plan server and wait; feedback is forwarded to our client."""
        client = self.executor_client
        if client is None:
            return False, "No executor is configured (execute_plan_action is empty).", []
        if not client.wait_for_server(timeout_sec=5.0):
            return False, f"The executor action {client._action_name!r} is not available.", []
        total = len(plan.steps)

        def forward(feedback_msg) -> None:
            if goal_handle is not None:
                fb = feedback_msg.feedback
                goal_handle.publish_feedback(ExecuteInstruction.Feedback(
                    stage="executing", step=fb.step, total_steps=fb.total_steps or total, detail=fb.detail))

        done = threading.Event()
        box: dict[str, Any] = {}
        send_future = client.send_goal_async(ExecutePlan.Goal(plan=plan_to_msg(plan)), feedback_callback=forward)

        def on_goal(future) -> None:
            handle = future.result()
            if not handle.accepted:
                box["error"] = "The executor rejected the plan."
                done.set()
                return
            handle.get_result_async().add_done_callback(lambda f: (box.setdefault("result", f.result().result),
                                                                   done.set()))

        send_future.add_done_callback(on_goal)
        if not done.wait(self.params["execute_timeout_s"]):
            return False, f"The executor did not finish within {self.params['execute_timeout_s']:.0f} s.", []
        if "error" in box:
            return False, box["error"], []
        executed = box["result"]
        return bool(executed.success), executed.message, list(executed.results)

    def _publish_diagnostics(self) -> None:
        status = DiagnosticStatus(name=f"{self.get_name()}: grounding", hardware_id="vlm_ros")
        latencies = np.array(self._latencies) if self._latencies else None
        if self.pipeline is None:
            status.level, status.message = DiagnosticStatus.ERROR, f"model not loaded: {self.load_error}"
        elif self.cache.received["image"] == 0:
            status.level, status.message = DiagnosticStatus.WARN, "no camera frames received yet"
        else:
            status.level, status.message = DiagnosticStatus.OK, "grounding"
        values = {
            "model_id": self.pipeline.model_id if self.pipeline else "",
            "frames_received": json.dumps(self.cache.received),
            "plans": json.dumps(dict(self._status_counts)),
            "last_message": self._last_message,
            "latency_ms_p50": f"{np.percentile(latencies, 50):.1f}" if latencies is not None else "",
            "latency_ms_p95": f"{np.percentile(latencies, 95):.1f}" if latencies is not None else "",
        }
        if self.pipeline is not None:  # backend-specific counters, e.g. the remote backend's failures
            values.update(getattr(self.pipeline.grounder, "diagnostics", dict)())
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diag_pub.publish(array)


def main(args: list[str] | None = None) -> None:
    spin_node(GroundingNode, args, threads=4)


if __name__ == "__main__":
    main()
