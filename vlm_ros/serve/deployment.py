"""The Ray Serve application: N replicas of one grounder behind /v1/chat/completions.

Ray Serve (a maintained serving engine: one box or a cluster, autoscaling, rolling updates)
runs the HTTP proxy and spreads requests over the replicas; `serve.batch` gathers the requests
that arrive within `batch_wait_s` into one call. Inference runs on a worker thread so the
replica keeps accepting and decoding the next requests meanwhile.

Endpoints: POST /v1/chat/completions, GET /v1/models, GET /health (no token needed, for load
balancers). With `api_key_env`, chat and models need `Authorization: Bearer <key>`; the key is
read from that environment variable in each replica (set it on every node of a cluster).
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations (Request) at
# definition time, and they name classes imported inside build_app.
import asyncio
import hmac
import os
from dataclasses import dataclass, field

from vlm_ros.serve.grounders import GrounderSpec


@dataclass(frozen=True)
class ServeOptions:
    grounder: GrounderSpec = field(default_factory=GrounderSpec)
    model_name: str = ""  # id in /v1/models; "" : the grounder's model_id
    replicas: int = 1
    max_batch_size: int = 8
    batch_wait_s: float = 0.005  # how long a batch waits for more requests after its first
    max_ongoing_requests: int = 32  # per replica, queued in the replica beyond the batch in flight
    cpus_per_replica: float = 1.0
    gpus_per_replica: float = 0.0
    api_key_env: str = ""  # NAME of the environment variable holding the bearer token


def build_app(options: ServeOptions):
    """A bound Ray Serve application (for serve.run). Imports Ray and FastAPI here only."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from ray import serve

    from vlm_ros.core.errors import InputError
    from vlm_ros.serve.grounders import ground_batch, load_grounder_for_serving
    from vlm_ros.serve.protocol import chat_response, error_body, models_response, parse_chat_request

    app = FastAPI(title="vlm_ros grounding server", docs_url=None, redoc_url=None, openapi_url=None)

    @serve.deployment(num_replicas=options.replicas, max_ongoing_requests=options.max_ongoing_requests,
                      ray_actor_options={"num_cpus": options.cpus_per_replica, "num_gpus": options.gpus_per_replica})
    @serve.ingress(app)
    class GrounderServer:
        def __init__(self, opts: ServeOptions):
            self.grounder = load_grounder_for_serving(opts.grounder)
            self.model_name = opts.model_name or self.grounder.model_id
            self.token = ""
            if opts.api_key_env:
                self.token = os.environ.get(opts.api_key_env, "")
                if not self.token:
                    raise RuntimeError(f"--api-key-env names {opts.api_key_env!r}, which is not set on this node.")
            self.batched.set_max_batch_size(opts.max_batch_size)
            self.batched.set_batch_wait_timeout_s(opts.batch_wait_s)

        def _denied(self, request: Request) -> JSONResponse | None:
            if not self.token:
                return None
            given = request.headers.get("authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return None
            return JSONResponse(error_body("Missing or wrong bearer token.", "authentication_error"), 401)

        @app.get("/health")
        def health(self) -> dict:
            return {"status": "ok", "model": self.model_name}

        @app.get("/v1/models")
        def models(self, request: Request):
            return self._denied(request) or models_response(self.model_name)

        @app.post("/v1/chat/completions")
        async def chat(self, request: Request):
            denied = self._denied(request)
            if denied is not None:
                return denied
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse(error_body("The request body is not JSON."), 400)
            try:
                ground_request = parse_chat_request(body)
            except InputError as error:
                return JSONResponse(error_body(str(error)), 400)
            if ground_request.model and ground_request.model != self.model_name:
                return JSONResponse(error_body(f"Unknown model {ground_request.model!r}; this server hosts "
                                               f"{self.model_name!r}.", "model_not_found"), 404)
            outcome = await self.batched(ground_request)
            if outcome.status != 200:
                return JSONResponse(error_body(outcome.error, "grounding_error"), outcome.status)
            return chat_response(outcome.content, self.model_name, len(ground_request.instruction))

        @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.005)
        async def batched(self, requests: list):
            return await asyncio.to_thread(ground_batch, self.grounder, requests)

    return GrounderServer.bind(options)
