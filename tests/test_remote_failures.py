"""backend remote against a real local HTTP server that misbehaves: every failure is an ERROR plan
naming its cause, within remote_timeout_s x (retries + 1) plus slack; with fallback_backend the
request is grounded locally instead and the plan says so. No mocks: real sockets on 127.0.0.1."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.chat_server import ChatServer, free_port
from vlm_ros.core.types import CameraIntrinsics, PlanStatus, RGBDFrame
from vlm_ros.grounding.factory import make_grounder
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig
from vlm_ros.grounding.test_backend import FixedProgramTestGrounder
from vlm_ros.qa.model_outputs import downward_camera
from vlm_ros.remote.client import RemoteConfig, RemoteGrounder
from vlm_ros.remote.fallback import FallbackGrounder
from vlm_ros.remote.image_codec import decode_image, encode_image

W, H = 64, 48
PROGRAM = "pick(red block) @ (32, 24) ; place(left side) @ (10, 10)"
TIMEOUT_S, RETRIES = 0.6, 1
SLACK_S = 0.5  # backoff (0.05 s) + encoding + thread scheduling on a loaded machine
DOWN = downward_camera()  # 0.8 m above (0.5, 0, 0), looking straight down


@pytest.fixture(scope="module")
def server():
    s = ChatServer(PROGRAM, slow_s=3 * TIMEOUT_S)
    yield s
    s.close()


def frame() -> RGBDFrame:
    rgb = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)
    return RGBDFrame(rgb, np.full((H, W), 0.8, np.float32), CameraIntrinsics(60.0, 60.0, W / 2, H / 2, W, H))


def pipeline(url: str, fallback: bool = False, **overrides) -> GroundingPipeline:
    config = RemoteConfig(url=url, model="test-model", timeout_s=TIMEOUT_S, retries=RETRIES, **overrides)
    grounder = RemoteGrounder(config)
    if fallback:
        grounder = FallbackGrounder(grounder, FixedProgramTestGrounder("pick(red block) @ (32, 24)"), "test-fixed")
    return GroundingPipeline(grounder, DOWN,
                             PipelineConfig(max_frame_age_s=0))


def timed_plan(p: GroundingPipeline, instruction: str = "put the red block on the left side"):
    t0 = time.monotonic()
    plan = p.run(frame(), instruction)
    return plan, time.monotonic() - t0


BUDGET = TIMEOUT_S * (RETRIES + 1) + SLACK_S
CASES = [  # mode, words the message must contain
    ("slow", ["did not answer within 0.6 s", "2 attempts"]),
    ("http-503", ["http 503", "test server says 503", "2 attempts"]),
    ("http-400", ["http 400", "test server says 400"]),
    ("not-json", ["not json"]),
    ("no-choices", ["no choices"]),
    ("wrong-format", ["could not be understood", "cannot parse step", "remote server"]),
    ("hang-up", ["broke the connection", "2 attempts"]),
    ("trickle", ["did not answer within 0.6 s"]),
]


def test_ok_reply_is_a_plan(server):
    server.mode = "ok"
    plan, _ = timed_plan(pipeline(server.url))
    assert plan.status is PlanStatus.OK, plan.message
    assert [s.type.value for s in plan.steps] == ["pick", "place"]
    body = server.requests[-1]
    part = body["messages"][0]["content"][0]
    assert part["type"] == "image_url" and part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert body["messages"][0]["content"][1] == {"type": "text", "text": "put the red block on the left side"}
    assert body["model"] == "test-model"


@pytest.mark.parametrize("mode,words", CASES, ids=[c[0] for c in CASES])
def test_failure_is_an_error_plan_in_time(server, mode, words):
    server.mode = mode
    plan, elapsed = timed_plan(pipeline(server.url))
    assert plan.status is PlanStatus.ERROR, plan.message
    assert not plan.steps
    for word in words:
        assert word in plan.message.lower(), plan.message
    assert elapsed <= BUDGET, f"{mode}: {elapsed:.2f} s > {BUDGET:.2f} s"


def test_server_down_is_an_error_plan(server):
    url = f"http://127.0.0.1:{free_port()}/v1"
    plan, elapsed = timed_plan(pipeline(url))
    assert plan.status is PlanStatus.ERROR
    assert "could not be reached" in plan.message and url in plan.message, plan.message
    assert elapsed <= BUDGET


@pytest.mark.parametrize("mode", ["slow", "http-503", "not-json", "no-choices", "wrong-format", "down"])
def test_fallback_grounds_locally_and_says_so(server, mode):
    server.mode = mode
    url = f"http://127.0.0.1:{free_port()}/v1" if mode == "down" else server.url
    p = pipeline(url, fallback=True)
    plan, elapsed = timed_plan(p)
    assert plan.status is PlanStatus.OK, plan.message
    assert [s.type.value for s in plan.steps] == ["pick"]
    assert "fallback backend test-fixed" in plan.message and "remote failed" in plan.message, plan.message
    diag = p.grounder.diagnostics()
    assert diag["fallbacks"] == "1" and diag["remote_failures"] == "1" and diag["last_remote_error"]
    assert elapsed <= BUDGET


def test_refusal_from_the_remote_is_not_a_failure(server):
    server.mode, server.program = "ok", "refuse(purple block)"
    try:
        p = pipeline(server.url, fallback=True)
        plan, _ = timed_plan(p, "put the purple block on the left side")  # a refusal names only what was asked
    finally:
        server.program = PROGRAM
    assert plan.status is PlanStatus.REFUSED and "purple block" in plan.message, plan.message
    assert p.grounder.fallbacks == 0


def test_api_key_goes_as_bearer_and_nowhere_else(server, monkeypatch):
    secret = "sk-test-4f1d9c0e7a"
    monkeypatch.setenv("VLM_ROS_TEST_KEY", secret)
    server.mode = "http-503"
    p = pipeline(server.url, api_key_env="VLM_ROS_TEST_KEY")
    plan, _ = timed_plan(p)
    assert server.headers[-1]["Authorization"] == f"Bearer {secret}"
    assert plan.status is PlanStatus.ERROR
    assert secret not in plan.message and secret not in repr(p.grounder.diagnostics())
    assert secret not in repr(p.grounder.config)


def test_missing_key_variable_is_an_error_plan(server, monkeypatch):
    monkeypatch.delenv("VLM_ROS_TEST_NO_SUCH_KEY", raising=False)
    server.mode = "ok"
    n = len(server.requests)
    plan, _ = timed_plan(pipeline(server.url, api_key_env="VLM_ROS_TEST_NO_SUCH_KEY"))
    assert plan.status is PlanStatus.ERROR and "VLM_ROS_TEST_NO_SUCH_KEY" in plan.message
    assert len(server.requests) == n  # nothing sent without the key


def test_points_from_a_shrunk_image_come_back_in_frame_pixels(server):
    """max_side shrinks 640x480 to 320x240; the server's (32, 24) is (64, 48) in the frame."""
    server.mode, server.program = "ok", "pick(red block) @ (32, 24)"
    try:
        g = RemoteGrounder(RemoteConfig(url=server.url, model="m", max_side=320, timeout_s=2.0))
        result = g.ground(np.zeros((480, 640, 3), np.uint8), "pick up the red block")
    finally:
        server.program = PROGRAM
    sent = decode_image(server.requests[-1]["messages"][0]["content"][0]["image_url"]["url"])
    assert sent.shape == (240, 320, 3)
    assert result.program.steps[0].pixel == pytest.approx((64.0, 48.0))


def test_model_is_asked_from_the_server_when_not_configured(server):
    server.mode = "ok"
    g = RemoteGrounder(RemoteConfig(url=server.url, model="", timeout_s=2.0))
    g.ground(frame().rgb, "pick up the red block")
    assert server.requests[-1]["model"] == "test-model" and "test-model" in g.model_id


def test_640x480_jpeg_is_a_few_tens_of_kb():
    from vlm_ros.engines.scenes import render_bench_scenes

    rgb = render_bench_scenes(1)[0].rgb
    assert rgb.shape == (480, 640, 3)
    jpeg = encode_image(rgb, jpeg_quality=90, max_side=640)
    png = encode_image(rgb, jpeg_quality=0)
    assert 2_000 < jpeg.nbytes < 80_000, jpeg.nbytes
    assert np.array_equal(decode_image(png.url), rgb)  # PNG is lossless
    assert np.abs(decode_image(jpeg.url).astype(int) - rgb).mean() < 3.0  # JPEG 90 is close


def test_factory_builds_remote_with_fallback(server):
    g = make_grounder("remote", test_program="pick(red block) @ (1, 2)",
                      remote=RemoteConfig(url=server.url, model="m"), fallback_backend="test-fixed")
    assert isinstance(g, FallbackGrounder) and isinstance(g.primary, RemoteGrounder)
