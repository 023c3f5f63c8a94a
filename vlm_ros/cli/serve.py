"""`vlm-ros serve`: host a grounder for many robots behind an OpenAI-compatible API (Ray Serve).

    vlm-ros serve --backend onnxruntime --replicas 2 --port 8000
    # robots: backend: remote, remote_url: http://THIS_HOST:8000/v1, model_family: vlm_ros

Binds 127.0.0.1 unless --host says otherwise. Needs the `serve` extra (pip install vlm_ros[serve]).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="serve a grounder over an OpenAI-compatible HTTP API (Ray Serve)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="onnxruntime", help="grounder backend: onnxruntime, torch, tensorrt, ...")
    p.add_argument("--model-path", default="", help="model directory; default: the shipped tabletop-tiny")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per replica (0: library default)")
    p.add_argument("--model-name", default="", help="id in /v1/models (default: the grounder's model id)")
    p.add_argument("--host", default="127.0.0.1", help="bind address; any non-loopback one exposes the server")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--max-batch-size", type=int, default=8, help="requests grounded in one batch")
    p.add_argument("--batch-wait-ms", type=float, default=5.0, help="how long a batch waits for more requests")
    p.add_argument("--cpus-per-replica", type=float, default=1.0)
    p.add_argument("--gpus-per-replica", type=float, default=0.0)
    p.add_argument("--api-key-env", default="", metavar="NAME",
                   help="require 'Authorization: Bearer <key>', the key read from environment variable NAME")
    p.add_argument("--ray-address", default="",
                   help="existing Ray cluster ('auto' or host:port); default: start a local Ray on 127.0.0.1")
    p.add_argument("--num-cpus", type=int, default=0,
                   help="CPUs of the local Ray (default: replicas x cpus-per-replica)")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace):
    from vlm_ros.serve.deployment import ServeOptions
    from vlm_ros.serve.grounders import GrounderSpec

    return ServeOptions(grounder=GrounderSpec(args.backend, args.model_path, args.device, args.threads),
                        model_name=args.model_name, replicas=args.replicas, max_batch_size=args.max_batch_size,
                        batch_wait_s=args.batch_wait_ms / 1e3, cpus_per_replica=args.cpus_per_replica,
                        gpus_per_replica=args.gpus_per_replica, api_key_env=args.api_key_env)


def start_local_ray(ray, num_cpus: int, attempts: int = 3) -> None:
    """A local Ray on 127.0.0.1, no dashboard. Ray gives its raylet a fixed 30 s to register, which
    an overloaded machine can miss: try again a few times before giving up."""
    for attempt in range(1, attempts + 1):
        try:
            ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
            return
        except Exception as error:  # Ray raises a bare Exception for the startup timeout
            ray.shutdown()
            if attempt == attempts:
                raise
            print(f"vlm-ros serve: Ray did not start ({error}); retrying ({attempt}/{attempts})", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.api_key_env and not os.environ.get(args.api_key_env):
        print(f"--api-key-env names {args.api_key_env!r}, which is not set.", file=sys.stderr)
        return 2
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray must not report usage over the network
    try:
        import ray
        from ray import serve
    except ImportError:
        print("vlm-ros serve needs Ray Serve: pip install 'vlm_ros[serve]' (or -r requirements/serve.txt)",
              file=sys.stderr)
        return 2
    from vlm_ros.serve.deployment import build_app

    options = _options(args)
    if args.ray_address:
        ray.init(address=args.ray_address, log_to_driver=False)
    else:
        start_local_ray(ray, args.num_cpus or max(1, int(round(args.replicas * args.cpus_per_replica))))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        serve.run(build_app(options), name="vlm_ros", route_prefix="/", blocking=False)
        print(f"vlm-ros serve: ready at http://{args.host}:{args.port}/v1 ({args.replicas} replica(s), "
              f"backend {args.backend})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        print("vlm-ros serve: shutting down", flush=True)
        t0 = time.monotonic()
        serve.shutdown()
        ray.shutdown()
        print(f"vlm-ros serve: stopped in {time.monotonic() - t0:.1f} s", flush=True)
    return 0
