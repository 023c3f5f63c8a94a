"""grounding_node: camera + instruction → checked ActionPlan, and execution through an executor.

The node is wiring only: ROS messages in, GroundingPipeline (plain Python) in the middle,
messages out. Every failure becomes an ERROR/REFUSED plan; no input makes the node die.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from vlm_ros.core.errors import InputError
from vlm_ros.core.types import Plan, PlanStatus, RGBDFrame
from vlm_ros.geometry.transforms import pose_to_matrix
from vlm_ros.grounding.factory import make_grounder
from vlm_ros.grounding.families_factory import family_options
from vlm_ros.grounding.from_params import apply_preprocess_mode, pipeline_config
from vlm_ros.grounding.pipeline import GroundingPipeline, check_instruction
from vlm_ros.remote.factory import remote_config
from vlm_ros.ros.callback_guard import CallbackGuard
from vlm_ros.ros.camera_geometry import CameraGeometry
from vlm_ros.ros.execute_action import ExecuteActions
from vlm_ros.ros.frame_cache import FrameCache
from vlm_ros.ros.frame_wait import FrameWait
from vlm_ros.ros.grounding_diagnostics import grounding_status
from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros.ros.ingest import Ingest
from vlm_ros.ros.lifecycle import FAILURE, SUCCESS, EntityScope, free_model_memory
from vlm_ros.ros.markers import plan_markers
from vlm_ros.ros.memory import fix_mmap_threshold, release_free_memory
from vlm_ros.ros.msg_conversion import frame_from_raw, plan_to_msg, request_time_ns
from vlm_ros.ros.parameters import GROUNDING_PARAMETERS, descriptor
from vlm_ros.ros.pulled_topics import CAMERA_QOS, PulledTopics
from vlm_ros.ros.request_gate import RateLimiter, RequestGate
from vlm_ros.ros.spin import spin_node
from vlm_ros.visualization import draw_plan
from vlm_ros_interfaces.msg import ActionPlan
from vlm_ros_interfaces.srv import GroundInstruction

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class GroundingNode(LifecycleNode):
    """A managed node: configure loads the model, activate opens topics/services/actions,
    deactivate closes them, cleanup frees the model. `autostart` walks it to active at start."""

    def __init__(self, **kwargs: Any):
        super().__init__("grounding_node", **kwargs)
        fix_mmap_threshold()  # huge frames must not leave RSS above baseline (vlm_ros.ros.memory)
        for spec in GROUNDING_PARAMETERS:
            self.declare_parameter(spec.name, spec.default, descriptor(spec))
        self.pipeline: GroundingPipeline | None = None
        self.load_error = "not configured yet"
        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=200)
        self._status_counts: Counter[str] = Counter()
        self._last_message = ""
        self.guard = CallbackGuard(self.get_logger())
        self._read_parameters()
        self._configured, self._active = EntityScope(self), EntityScope(self)
        # diagnostics run in every state, so an unconfigured node still says why
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_timer(self.params["diagnostics_period_s"],
                          self.guard.wrap("diagnostics", self._publish_diagnostics))
        if self.params["autostart"] and self.trigger_configure() == SUCCESS:
            self.trigger_activate()

    def _read_parameters(self) -> None:
        p = {spec.name: self.get_parameter(spec.name).value for spec in GROUNDING_PARAMETERS}
        self.params = p
        self.cache = FrameCache(p["sync_slop_s"])
        self.camera_topics = PulledTopics()
        self.frames = FrameWait(self.camera_topics, self.cache, lambda: self.get_clock().now().nanoseconds, p)
        # colour and depth arrive serialized and stay so until a request uses them (vlm_ros.ros.ingest)
        self.ingest = Ingest(self.cache, p["max_image_bytes"], self.get_logger())
        # grounding is serial; the gate bounds the queue and keeps the topic to a share of one
        self.requests = RequestGate(p["max_pending_requests"], source_limits={"topic": 1})
        self.instruction_rate = RateLimiter(p["max_instruction_rate_hz"])

    # --- lifecycle ---------------------------------------------------------------------------------------
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        """Load the model and create the publishers; a model that does not load leaves the node unconfigured."""
        self._read_parameters()  # parameters set while unconfigured take effect here
        self._load_model(self.params)
        if self.pipeline is None:
            return FAILURE
        with self._configured:
            self.plan_pub = self.create_publisher(ActionPlan, "plan", 10)
            self.debug_pub = self.create_publisher(Image, "debug_image", 1)
            self.marker_pub = self.create_publisher(MarkerArray, "markers", 1)
        self.get_logger().info(f"configured: model {self.pipeline.model_id}")
        return SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        """Subscriptions, the ground service and the execute action (with stop) appear."""
        p, group, guard = self.params, ReentrantCallbackGroup(), self.guard.wrap
        with self._active:
            camera = self.camera_topics  # read when a frame is wanted, not at camera rate (pulled_topics)
            if p["use_compressed"]:
                camera.subscribe(self, CompressedImage, "image/compressed", guard("image", self.ingest.compressed),
                                 CAMERA_QOS)
            else:
                camera.subscribe(self, Image, "image", guard("image", self.ingest.image), CAMERA_QOS,
                                 raw=True)
            camera.subscribe(self, Image, "depth", guard("depth", self.ingest.depth), CAMERA_QOS,
                             raw=True)
            camera.subscribe(self, CameraInfo, "camera_info", guard("camera_info", self.cache.add_camera_info),
                             CAMERA_QOS)
            self.camera_geometry = CameraGeometry(  # /tf, /tf_static, camera_pose, parameter
                self, p, self.pipeline.projector.camera_to_base, group, guard)
            self.create_subscription(String, "instruction", guard("instruction", self._on_instruction), 10,
                                     callback_group=group)
            if p["backend"] == "oracle":
                self.create_subscription(String, "oracle/program", guard(
                    "oracle/program", lambda m: self.pipeline.grounder.set_program(m.data)), LATCHED,
                    callback_group=group)
            # rclpy's default service QoS keeps 10 requests: callers beyond it would never be answered, not even "busy"
            service_qos = QoSProfile(depth=max(1000, 10 * p["max_pending_requests"]),
                                     reliability=ReliabilityPolicy.RELIABLE)
            self.create_service(GroundInstruction, "ground", self._on_ground, qos_profile=service_qos,
                                callback_group=group)
            self.execution = ExecuteActions(self, group)  # `execute` action, `stop` service, the executor client
        self.get_logger().info(
            f"ready: model {self.pipeline.model_id if self.pipeline else 'NOT LOADED'}, "
            f"image topic {self.resolve_topic_name('image/compressed' if p['use_compressed'] else 'image')}")
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        if getattr(self, "execution", None) is not None:
            self.execution.forwarder.stop_all("node deactivated")  # nothing keeps moving for a node that left
        self._destroy_active_entities()
        self.get_logger().info("inactive: subscriptions, services and actions removed")
        return super().on_deactivate(state)

    def _destroy_active_entities(self) -> None:
        """What activate created: subscriptions, services, actions, and the tf listener's own node and thread."""
        self.camera_topics.clear()
        self._close_camera_geometry()
        self._active.destroy()

    def _close_camera_geometry(self) -> None:
        geometry = getattr(self, "camera_geometry", None)
        if geometry is not None:  # its tf listener runs a node and thread of its own
            geometry.close()

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._configured.destroy()
        with self._lock:  # a grounding still running finishes first
            self.pipeline = None
        self.load_error = "cleaned up (not configured)"
        free_model_memory()
        self.get_logger().info("unconfigured: model freed")
        return SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self._destroy_active_entities()
        return self.on_cleanup(state)

    def on_error(self, state: State) -> TransitionCallbackReturn:
        self.get_logger().error(f"lifecycle error in state {state.label}; cleaning up")
        self._destroy_active_entities()
        return self.on_cleanup(state)

    def destroy_node(self) -> None:
        if getattr(self, "execution", None) is not None:  # never activated: nothing can be running
            self.execution.forwarder.stop_all("node shutting down")  # nothing keeps moving after we are gone
        self._close_camera_geometry()
        if getattr(self, "requests", None) is not None:  # a node whose parameters were refused has none
            self.requests.shutdown()
        super().destroy_node()

    # --- setup -------------------------------------------------------------------------------------------
    def _load_model(self, p: dict[str, Any]) -> None:
        config = pipeline_config(p)
        try:  # checked first: a bad pose is a configuration error, not a model that failed to load
            camera_to_base = pose_to_matrix(p["camera_to_base"])
        except ValueError as error:
            self.load_error = f"the camera_to_base parameter is invalid: {error}"
            self.get_logger().error(f"not configured: {self.load_error}")
            return
        try:
            grounder = make_grounder(p["backend"], p["model_path"], p["device"], p["test_program"],
                                     remote=remote_config(p), fallback_backend=p["fallback_backend"],
                                     **family_options(p))
            apply_preprocess_mode(grounder, p["preprocess_mode"])
            self.pipeline = GroundingPipeline(grounder, camera_to_base, config)
        except Exception as error:  # a missing or broken model is reported, not fatal
            self.load_error = f"{type(error).__name__}: {error}"
            self.get_logger().error(f"could not load the model ({p['backend']}): {self.load_error}")

    # --- grounding ---------------------------------------------------------------------------------------
    def ground(self, instruction: str, not_before: int | Time = 0, deadline: float | None = None) -> Plan:
        """Ground on the latest frame (or the first at/after not_before) and publish plan, debug image, markers.

        `not_before` is ns or the request's Time, checked here (nanosec ≥ 1e9 is an ERROR plan).
        Never raises: whatever fails below (backend, projection, drawing, message conversion) becomes
        an ERROR plan, and the plan returned always converts to a message.
        """
        frame: RGBDFrame | None = None
        with self._lock:
            if self.pipeline is None:
                plan = Plan(instruction, PlanStatus.ERROR, f"The model is not loaded: {self.load_error}")
            else:
                try:
                    check_instruction(instruction, self.pipeline.config.max_instruction_chars)  # before any wait
                    not_before_ns = not_before if isinstance(not_before, int) else request_time_ns(not_before,
                                                                                                   "not_before")
                    raw = self.frames.frame(not_before_ns, deadline)
                    self.ingest.check(raw)  # a newer frame refused by size: say so, do not ground on an old one
                    frame = frame_from_raw(raw, self.params["assume_rectified"]) if raw is not None else None
                    pose = self.camera_geometry.resolve(frame) if frame is not None else None
                    plan = self.pipeline.run(frame, instruction, now_ns=self.get_clock().now().nanoseconds,
                                             camera_to_base=pose.matrix if pose is not None else None)
                    if pose is not None:
                        plan.debug["camera_pose"] = pose.source
                except InputError as error:
                    plan = Plan(instruction, PlanStatus.ERROR, str(error), model_id=self.pipeline.model_id)
                except Exception as error:  # a bug must cost one plan, never the node
                    plan = self.internal_error(plan_instruction=instruction, stage="grounding", error=error)
            plan.frame_id = self.params["base_frame"]
            messages = self._messages(plan, frame)
            self._record(messages[0])
        self._publish(*messages)
        return messages[0]

    def internal_error(self, plan_instruction: str, stage: str, error: BaseException) -> Plan:
        self.get_logger().error(f"{stage} failed: {error!r}")
        model_id = self.pipeline.model_id if self.pipeline is not None else ""
        plan = Plan(plan_instruction, PlanStatus.ERROR, f"Internal error while {stage}: {error}"[:500],
                    model_id=model_id)
        plan.frame_id = self.params["base_frame"]
        return plan

    def _messages(self, plan: Plan, frame: RGBDFrame | None) -> tuple[Plan, ActionPlan, MarkerArray, Image | None]:
        """Everything to publish for `plan`; a plan that cannot be drawn or converted becomes an ERROR plan."""
        try:
            msg = plan_to_msg(plan)
            markers = plan_markers(plan)
            image = None
            if self.params["publish_debug_image"] and frame is not None and self.debug_pub.get_subscription_count():
                image = numpy_to_image(draw_plan(frame.rgb, plan), "rgb8")
                image.header.stamp = msg.header.stamp
                image.header.frame_id = frame.frame_id
            return plan, msg, markers, image
        except Exception as error:  # e.g. a pixel cv2 cannot draw: the plan is not trustworthy either
            plan = self.internal_error(plan.instruction, "drawing or converting the plan", error)
            return plan, plan_to_msg(plan), plan_markers(plan), None

    def submit(self, instruction: str, not_before: int | Time = 0, source: str = "service"):
        """Queue a grounding request; a concurrent.futures.Future of its Plan, or None when busy."""
        deadline = time.monotonic() + self.params["frame_wait_s"]
        return self.requests.submit(self.ground, instruction, not_before, deadline, source=source)

    def busy_plan(self, instruction: str) -> Plan:
        plan = Plan(instruction, PlanStatus.ERROR, self.requests.busy_message(),
                    model_id=self.pipeline.model_id if self.pipeline is not None else "")
        plan.frame_id = self.params["base_frame"]
        self._record(plan)
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

    def _publish(self, plan: Plan, msg: ActionPlan, markers: MarkerArray, image: Image | None) -> None:
        self.plan_pub.publish(msg)
        self.marker_pub.publish(markers)
        if image is not None:
            self.debug_pub.publish(image)

    # --- callbacks ---------------------------------------------------------------------------------------
    def _on_instruction(self, msg: String) -> None:
        """Rate-limited, at most one queued: a flood costs the service one grounding at most."""
        if not self.instruction_rate.allow():
            self.get_logger().warning("instruction topic over max_instruction_rate_hz: message dropped",
                                      throttle_duration_sec=5.0)
            return
        future = self.submit(msg.data, source="topic")
        if future is None:
            self.get_logger().warning("instruction dropped: a topic instruction is still queued",
                                      throttle_duration_sec=5.0)
            return
        if self.params["execute_topic_instructions"]:
            future.add_done_callback(self.guard.wrap("topic execution", self.execution.execute_in_background))

    async def _on_ground(self, request: GroundInstruction.Request, response: GroundInstruction.Response):
        """Async: a queued request holds no executor thread, so "busy" answers go out at once."""
        future = self.submit(request.instruction, request.not_before)
        if future is None:
            plan = self.busy_plan(request.instruction)
        else:
            plan = await _awaitable(future, self.executor)
        response.plan = plan_to_msg(plan)
        return response

    def _publish_diagnostics(self) -> None:
        self.camera_topics.drain()  # the frame counts and refusals are current, even with no requests
        release_free_memory()  # once a period: what huge frames left in the heap goes back to the OS
        self.diag_pub.publish(grounding_status(self))


async def _awaitable(future, executor):
    """Await a concurrent.futures.Future inside an rclpy coroutine callback.

    rclpy resumes a waiting coroutine only when its executor wakes; a done callback on the
    rclpy future makes set_result (from the worker thread) wake it at once.
    """
    from rclpy.task import Future as RclpyFuture

    done = RclpyFuture(executor=executor)
    done.add_done_callback(lambda _f: None)
    future.add_done_callback(lambda f: done.set_result(f.result()))
    return await done


def main(args: list[str] | None = None) -> None:
    spin_node(GroundingNode, args, threads=4)


if __name__ == "__main__":
    main()
