"""Building blocks of the hostile-input cases: a case, its outcome, and one builder per kind of request.

`ground_case` publishes a frame with one part made hostile (or a pose, stamp or model output)
and calls `ground`; `execute_case`, `cancel_case`, `flood_case` and `concurrent_case` drive the
action, the executor and many requests. The list of cases is vlm_ros/qa/hostile_cases.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from action_msgs.msg import GoalStatus
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image
from std_msgs.msg import String

from vlm_ros.qa.graph_harness import GOOD_PROGRAM, QaClient, good_depth, good_info, good_pose, good_rgb
from vlm_ros.ros.image_conversion import numpy_to_image
from vlm_ros.ros.msg_conversion import time_msg
from vlm_ros_interfaces.msg import ActionPlan

STATUS = {ActionPlan.OK: "OK", ActionPlan.REFUSED: "REFUSED", ActionPlan.ERROR: "ERROR"}
GOAL_STATUS = {GoalStatus.STATUS_SUCCEEDED: "SUCCEEDED", GoalStatus.STATUS_CANCELED: "CANCELED",
               GoalStatus.STATUS_ABORTED: "ABORTED"}
ASK = "put the red block on the left side"


@dataclass
class Outcome:
    status: str  # OK | REFUSED | ERROR | UNANSWERED
    message: str = ""
    problem: str = ""  # a finding beyond the status (wrong words, an executor goal that should not exist)


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    expect: str  # the status a correct node answers
    act: Callable[[QaClient, float], Outcome]  # (client, answer timeout) -> outcome
    short: bool = False


# --- building blocks -------------------------------------------------------------------------------------
def rgb_msg(encoding: str = "rgb8", array: np.ndarray | None = None) -> Image:
    return numpy_to_image(good_rgb() if array is None else array, encoding)


def depth_msg(array: np.ndarray | None = None, encoding: str = "32FC1") -> Image:
    return numpy_to_image(good_depth() if array is None else array, encoding)


def edited(msg: Any, **fields: Any) -> Any:
    for name, value in fields.items():
        setattr(msg, name, value)
    return msg


def outcome_of(plan: ActionPlan | None, words: tuple[str, ...] = (), check: Callable | None = None) -> Outcome:
    if plan is None:
        return Outcome("UNANSWERED")
    out = Outcome(STATUS.get(plan.status, f"status {plan.status}"), plan.message)
    missing = [w for w in words if w.lower() not in plan.message.lower()]
    if missing:
        out.problem = f"message lacks {missing}"
    if check is not None and not out.problem:
        out.problem = check(plan) or ""
    if out.status == "ERROR" and plan.steps:  # REFUSED plans keep their steps for the debug image, never executed
        out.problem = out.problem or f"a {out.status} plan carries {len(plan.steps)} steps"
    return out


def pick_at(expected: tuple[float, float, float]) -> Callable[[ActionPlan], str | None]:
    """Check: the first step lands where the good pose and the oracle's pixel put it."""
    def check(plan: ActionPlan) -> str | None:
        if not plan.steps:
            return "no steps"
        p = plan.steps[0].pose.position
        if not np.allclose([p.x, p.y, p.z], expected, atol=2e-3):
            return f"pick at ({p.x:.3f}, {p.y:.3f}, {p.z:.3f}), expected {expected}"
        return None
    return check


def ground_case(name: str, category: str, expect: str, *, image: Callable[[], Any] = rgb_msg,
                depth: Callable[[], Any] = depth_msg, info: Callable[[], Any] = good_info,
                stamp: Callable[[int], Time] | None = None, depth_stamp: Callable[[int], Time] | None = None,
                program: str = GOOD_PROGRAM, instruction: str = ASK, pose: Callable[[], Any] | None = None,
                not_before: Callable[[int], Time] | str | None = "frame", words: tuple[str, ...] = (),
                check: Callable | None = None, short: bool = False, repeat: int = 2, warmup: bool = False) -> Case:
    """A `ground` request after publishing a frame whose parts (or stamp, pose, program) are replaced.

    `repeat`: how often the frame is sent; big frames need a few, as a streaming camera sends them
    (best-effort DDS loses large samples on a loaded machine); `warmup` keeps resending the frame, with
    fresh stamps, every 0.1 s until the answer comes.
    """
    def act(client: QaClient, timeout: float) -> Outcome:
        client.set_program(program)
        if pose is not None:
            client.set_pose(pose())
        now = client.now_ns()
        stamp_ns = client.publish_frame(image(), depth(), info(), stamp(now) if stamp else None,
                                        depth_stamp(now) if depth_stamp else None, repeat=repeat)
        if warmup:  # keep sending this frame, as a streaming camera would, while the request waits for it
            stopper = threading.Event()
            images, depths, infos = image(), depth(), info()

            def resend() -> None:
                while not stopper.wait(0.1):
                    client.publish_frame(images, depths, infos, repeat=1)  # fresh stamps, as a camera sends
            threading.Thread(target=resend, daemon=True).start()
        if not_before == "frame":  # wait for this very frame, so an earlier one cannot answer
            request_time = time_msg(stamp_ns) if stamp is None and depth_stamp is None else None
        else:
            request_time = not_before(client.now_ns()) if callable(not_before) else None
        plan = client.ground(instruction, timeout, request_time)
        if warmup:
            stopper.set()
        if pose is not None:
            client.set_pose(good_pose())
        return outcome_of(plan, words, check)
    return Case(name, category, expect, act, short)


def execute_case(name: str, expect: str, expect_success: bool, *, mode: str = "succeed", instruction: str = ASK,
                 program: str = GOOD_PROGRAM, dry_run: bool = False, words: tuple[str, ...] = (),
                 short: bool = False) -> Case:
    """An `execute` goal; the executor (a real ExecutePlan server in the client) behaves as `mode` says."""
    def act(client: QaClient, timeout: float) -> Outcome:
        client.set_program(program)
        client.executor_mode = mode
        if mode != "absent":
            client.start_executor()
        client.publish_good_frame()
        before = client.executor_goals
        result, _accepted = client.execute(instruction, timeout + 10.0, dry_run=dry_run)
        if result is None:
            return Outcome("UNANSWERED")
        out = outcome_of(result.plan, words)
        sent = client.executor_goals - before
        if out.status != "OK" and sent:
            out.problem = f"a {out.status} plan reached the executor"
        elif bool(result.success) != expect_success:
            out.problem = f"success={result.success} ({result.message}), expected {expect_success}"
        return out
    return Case(name, "action goal" if mode in ("succeed",) or dry_run else "executor fault", expect, act, short)


def cancel_case(name: str, via: str, expect: str, limit_s: float = 1.0, short: bool = False) -> Case:
    """Cancel (or `stop`) an execute goal while the executor runs it: the executor's goal must be cancelled.

    The issue's bar is 100 ms; `limit_s` is looser so a loaded machine does not make a finding of it,
    and the measured lag is in the outcome's message.
    """
    def act(client: QaClient, timeout: float) -> Outcome:
        client.set_program(GOOD_PROGRAM)
        client.executor_mode = "hang"
        client.start_executor()
        client.publish_good_frame()
        status, sent, lag = client.execute_then_stop(ASK, timeout + 10.0, via)
        if status is None:
            return Outcome("UNANSWERED", f"executor goals: {sent}")
        out = Outcome(GOAL_STATUS.get(status, f"goal status {status}"),
                      "executor never saw a cancel" if lag is None else f"executor goal cancelled {lag * 1e3:.0f} ms "
                      f"after the {via}")
        if lag is None or lag > limit_s:
            out.problem = out.message
        return out
    return Case(name, "cancel", expect, act, short)


def flood_case(name: str, messages: int, limit_s: float, short: bool = False) -> Case:
    """`messages` instruction messages as fast as they go, then a `ground` request must answer within limit_s."""
    def act(client: QaClient, timeout: float) -> Outcome:
        client.set_program(GOOD_PROGRAM)
        client.publish_good_frame()
        with client.streaming():
            for _ in range(messages):
                client.instruction_pub.publish(String(data="pick the red block"))
            start = time.monotonic()
            plan = client.ground(ASK, timeout)
        out = outcome_of(plan)
        if plan is not None and time.monotonic() - start > limit_s:
            out.problem = f"answered after {time.monotonic() - start:.1f} s (limit {limit_s} s)"
        return out
    return Case(name, "flood", "OK", act, short)


def concurrent_case(name: str, requests: int, short: bool = False) -> Case:
    """`requests` ground calls at once: each answered (OK, or a "busy" ERROR), none left waiting."""
    def act(client: QaClient, timeout: float) -> Outcome:
        client.set_program(GOOD_PROGRAM)
        client.publish_good_frame()
        with client.streaming():
            plans = client.ground_many(ASK, requests, timeout * 3)
        unanswered = sum(p is None for p in plans)
        wrong = [p.message for p in plans if p is not None and p.status != ActionPlan.OK and "busy" not in p.message]
        if unanswered:
            return Outcome("UNANSWERED", f"{unanswered} of {requests} unanswered")
        return Outcome("OK", problem=f"{len(wrong)} answered neither OK nor busy: {wrong[:2]}" if wrong else "")
    return Case(name, "flood", "OK", act, short)


