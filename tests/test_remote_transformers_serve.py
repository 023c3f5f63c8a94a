"""backend remote against a real third-party server: `transformers serve` (Hugging Face's own
OpenAI-compatible server) hosting a tiny random-weight Gemma3 checkpoint built by the test, on
127.0.0.1 and a free port, stopped by the test. Random weights answer garbage: the plan must be
ERROR or REFUSED with a message (never a crash, never steps), and the server must have been asked
with the family's prompt and the image."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.tiny_vlms import build
from vlm_ros.core.types import CameraIntrinsics, PlanStatus, RGBDFrame
from vlm_ros.grounding.pipeline import GroundingPipeline, PipelineConfig
from vlm_ros.remote.client import RemoteConfig, RemoteGrounder
from vlm_ros.serve.process import free_port

pytestmark = pytest.mark.timeout(400)


def _serve_missing() -> str:
    from transformers.utils.import_utils import (
        is_accelerate_available,
        is_fastapi_available,
        is_openai_available,
        is_pydantic_available,
        is_uvicorn_available,
    )

    checks = {"openai": is_openai_available(), "fastapi": is_fastapi_available(), "uvicorn": is_uvicorn_available(),
              "pydantic": is_pydantic_available(), "accelerate": is_accelerate_available()}
    return ", ".join(name for name, ok in checks.items() if not ok)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    missing = _serve_missing()
    if missing:
        pytest.skip(f"`transformers serve` needs {missing} (install requirements/serve.txt)")
    root = tmp_path_factory.mktemp("tiny")
    model_dir = build("gemma3", root)
    port = free_port()
    log = open(root / "transformers-serve.log", "w")  # noqa: SIM115 - closed below
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cli = Path(sys.executable).with_name("transformers")
    proc = subprocess.Popen([str(cli), "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
                             "--device", "cpu"], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail(f"transformers serve exited with {proc.returncode}: "
                            f"{(root / 'transformers-serve.log').read_text()[-2000:]}")
            try:
                if httpx.get(base + "/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "transformers serve was not healthy within 240 s"
            time.sleep(0.5)
        yield base, str(model_dir)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()


def test_garbage_from_a_random_gemma3_is_an_error_or_refused_plan(server):
    from vlm_ros.engines.scenes import render_bench_scenes

    base, model_dir = server
    listed = httpx.get(base + "/v1/models", timeout=10, trust_env=False).json()
    assert any(m["id"] == model_dir for m in listed["data"]), listed
    rgb = render_bench_scenes(1)[0].rgb
    h, w = rgb.shape[:2]
    grounder = RemoteGrounder(RemoteConfig(url=base + "/v1", model=model_dir, family="gemma3", timeout_s=120.0,
                                           retries=0, max_tokens=24))
    pipeline = GroundingPipeline(grounder, np.eye(4), PipelineConfig(max_frame_age_s=0))
    frame = RGBDFrame(rgb, np.full((h, w), 0.8, np.float32),
                      CameraIntrinsics(500.0, 500.0, w / 2, h / 2, w, h))
    t0 = time.monotonic()
    plan = pipeline.run(frame, "put the red block in the green bowl")
    elapsed = time.monotonic() - t0
    assert plan.status in (PlanStatus.ERROR, PlanStatus.REFUSED), (plan.status, plan.message, plan.raw_output)
    assert plan.message and not plan.steps
    assert grounder.requests == 1 and grounder.last_call.attempts == 1
    print(f"transformers serve + tiny gemma3: {plan.status.value} in {elapsed:.1f} s: {plan.message[:200]}")


def test_unknown_model_is_an_error_plan_naming_the_server_reply(server):
    base, _ = server
    grounder = RemoteGrounder(RemoteConfig(url=base + "/v1", model="/no/such/model", family="gemma3", timeout_s=60.0,
                                           retries=0, max_tokens=8))
    with pytest.raises(Exception) as info:
        grounder.ground(np.zeros((48, 64, 3), np.uint8), "pick up the red block")
    assert "remote server" in str(info.value).lower(), info.value
