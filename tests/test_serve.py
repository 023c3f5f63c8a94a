"""`vlm-ros serve` for real: Ray Serve on 127.0.0.1 (a free port), tabletop-tiny on ONNX Runtime,
2 replicas, a bearer token; the `remote` backend through it gives exactly the local backend's
plans on 50 rendered sim scenes. One server (one Ray start) for the whole module, stopped by it."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

pytest.importorskip("ray.serve", reason="the serve extra is not installed (pip install -r requirements/serve.txt)")
pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -r requirements/serve.txt)")

from vlm_ros.core.errors import BackendError
from vlm_ros.remote.client import RemoteConfig, RemoteGrounder
from vlm_ros.remote.image_codec import encode_image
from vlm_ros.serve.process import ServeProcess

pytestmark = pytest.mark.timeout(900)
KEY_ENV, KEY = "VLM_ROS_SERVE_TEST_KEY", "serve-test-token-5b7e"
SCENES = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    args = ["--backend", "onnxruntime", "--threads", "1", "--replicas", "2", "--api-key-env", KEY_ENV,
            "--max-batch-size", "4", "--batch-wait-ms", "2"]
    with ServeProcess(args, log_path=str(log), env={KEY_ENV: KEY}) as s:
        yield s
    assert s.proc is not None and s.proc.returncode is not None  # stopped


@pytest.fixture(scope="module")
def scenes():
    from vlm_ros.engines.scenes import render_bench_scenes

    return render_bench_scenes(SCENES)


def remote(server, **overrides) -> RemoteGrounder:
    options = {"url": server.url, "api_key_env": KEY_ENV, "timeout_s": 60.0, "retries": 0, **overrides}
    return RemoteGrounder(RemoteConfig(**options))


def steps_of(program) -> list[tuple]:
    return [(s.type.value, s.target_label, s.direction_word, s.pixel) for s in program.steps]


def test_remote_plans_equal_local_plans_on_50_scenes(server, scenes, monkeypatch):
    """PNG (remote_jpeg_quality 0) at full size: the server sees the frame bit for bit."""
    from vlm_ros.engines.loaders import load_onnxruntime_grounder
    from vlm_ros.models import DEFAULT_WEIGHTS_PATH

    monkeypatch.setenv(KEY_ENV, KEY)
    local = load_onnxruntime_grounder(DEFAULT_WEIGHTS_PATH, threads=1)
    client = remote(server, jpeg_quality=0, max_side=0)
    same, differing = 0, []
    for scene in scenes:
        a = local.ground(scene.rgb, scene.instruction)
        b = client.ground(scene.rgb, scene.instruction)
        if a.raw_output == b.raw_output and steps_of(a.program) == steps_of(b.program) \
                and a.program.refused_label == b.program.refused_label:
            same += 1
        else:
            differing.append((scene.seed, a.raw_output, b.raw_output))
    assert same == SCENES, differing[:3]
    assert client.requests == SCENES and client.failures == 0


def test_health_and_models(server, monkeypatch):
    health = httpx.get(server.base + "/health", trust_env=False)  # no token needed: load-balancer probe
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert httpx.get(server.url + "/models", trust_env=False).status_code == 401
    models = httpx.get(server.url + "/models", headers={"Authorization": f"Bearer {KEY}"}, trust_env=False).json()
    assert models["object"] == "list" and models["data"][0]["id"] == "tabletop-vlm:tabletop-tiny"


def test_wrong_or_missing_token_is_refused(server, scenes, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    with pytest.raises(BackendError, match="HTTP 401"):
        remote(server, model="tabletop-vlm:tabletop-tiny").ground(scenes[0].rgb, scenes[0].instruction)
    image = encode_image(scenes[0].rgb).url
    body = {"model": "tabletop-vlm:tabletop-tiny", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": image}}, {"type": "text", "text": "pick up the red block"}]}]}
    assert httpx.post(server.url + "/chat/completions", json=body, trust_env=False).status_code == 401


def test_bad_requests_are_400_with_a_reason_and_server_lives_on(server, scenes, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    auth = {"Authorization": f"Bearer {KEY}"}
    url = server.url + "/chat/completions"

    def post(body) -> httpx.Response:
        return httpx.post(url, json=body, headers=auth, timeout=60, trust_env=False)

    no_image = {"messages": [{"role": "user", "content": "pick up the red block"}]}
    bad_image = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}, {"type": "text", "text": "hi"}]}]}
    remote_url = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://example.invalid/x.png"}}, {"type": "text", "text": "x"}]}]}
    for body, words in [(no_image, "exactly one image_url"), (bad_image, "could not be decoded"),
                        (remote_url, "does not fetch"), ({"messages": []}, "no messages")]:
        reply = post(body)
        assert reply.status_code == 400 and words in reply.json()["error"]["message"], reply.text
    wrong_model = post({"model": "gpt-9", **no_image})
    assert wrong_model.status_code in (400, 404)
    reply = httpx.post(url, content=b"{not json", headers=auth, timeout=60, trust_env=False)
    assert reply.status_code == 400
    # still serving
    plan = remote(server).ground(scenes[1].rgb, scenes[1].instruction)
    assert plan.raw_output


def test_concurrent_robots_all_get_their_own_plans(server, scenes, monkeypatch):
    """8 robots at once, each with its own frame: each answer is the one for its frame (batching
    must not mix requests up)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv(KEY_ENV, KEY)
    client = remote(server, jpeg_quality=0, max_side=0)
    chosen = scenes[:8]
    sequential = [client.ground(s.rgb, s.instruction).raw_output for s in chosen]
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda s: client.ground(s.rgb, s.instruction).raw_output, chosen))
    assert concurrent == sequential, f"{time.monotonic() - t0:.1f} s"
    assert len(set(sequential)) > 1  # the scenes really differ


def test_jpeg_default_encoding_is_small_and_mostly_the_same_plans(server, scenes, monkeypatch):
    """The default wire format (JPEG 90, longer side 640) is lossy: reported, and held to most scenes."""
    monkeypatch.setenv(KEY_ENV, KEY)
    lossless, jpeg = remote(server, jpeg_quality=0, max_side=0), remote(server)
    chosen = scenes[:10]
    same = sum(lossless.ground(s.rgb, s.instruction).raw_output.split(" @ ")[0]
               == jpeg.ground(s.rgb, s.instruction).raw_output.split(" @ ")[0] for s in chosen)
    sizes = [encode_image(s.rgb, 90, 640).nbytes for s in chosen]
    print(f"JPEG 90: {same}/{len(chosen)} same first step; median {np.median(sizes) / 1e3:.1f} kB per frame")
    assert max(sizes) < 80_000
    assert same >= len(chosen) // 2


def test_fleet_load_reports_throughput_latency_and_server_resources(server, scenes, monkeypatch, tmp_path):
    """A short run of what `vlm-ros bench-serve` does per K (the full bench is bounded by --duration)."""
    import cv2

    from vlm_ros.bench.serve_load import run_load
    from vlm_ros.bench.serve_plot import write_plot
    from vlm_ros.cli.bench_serve import summary

    monkeypatch.setenv(KEY_ENV, KEY)  # run_load's robots send no key: this server wants one
    frames = [(s.rgb, s.instruction) for s in scenes[:8]]
    refused = run_load(server.url, frames, clients=2, duration_s=1.0, replicas=2, pids_fn=server.pids)
    assert refused.plans == 0 and refused.errors > 0 and "401" in refused.error_examples[0]
    runs = [run_load(server.url, frames, clients=k, duration_s=2.0, replicas=2, pids_fn=server.pids,
                     api_key_env=KEY_ENV).as_dict() for k in (1, 2)]
    for run in runs:
        assert run["plans"] > 0 and run["errors"] == 0, run
        assert run["latency_ms"]["p50"] <= run["latency_ms"]["p95"] <= run["latency_ms"]["p99"]
        assert run["server_cpu_percent"] > 0 and run["server_mem_mb"]["max"] > 50, run
    assert summary(runs)["replicas_2"]["errors"] == 0
    write_plot(runs, str(tmp_path / "serve.png"))
    assert cv2.imread(str(tmp_path / "serve.png")) is not None
