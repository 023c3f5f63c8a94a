"""`vlm-ros bench-serve`: fleet load test of `vlm-ros serve` on loopback.

    vlm-ros bench-serve --clients 1,2,4,8,16 --replicas 1,2 --duration 20 \\
        --json docs/bench/serve.json --plot docs/bench/serve.png

For each replica count, starts one `vlm-ros serve` on 127.0.0.1 (a free port), then K = each
of --clients simulated robots send their own sim frames for --duration seconds; reports
throughput (plans/s), latency p50/p95/p99, errors, server CPU and memory; stops the server.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench-serve", help="fleet load test of vlm-ros serve on loopback",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", default="1,2,4,8,16", help="comma-separated robot counts K")
    p.add_argument("--replicas", default="1,2", help="comma-separated replica counts")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per K (bounded)")
    p.add_argument("--max-requests", type=int, default=5000, help="per robot and K (bounded)")
    p.add_argument("--scenes", type=int, default=32, help="sim frames rendered and shared out among robots")
    p.add_argument("--backend", default="onnxruntime")
    p.add_argument("--model-path", default="")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per replica")
    p.add_argument("--max-batch-size", type=int, default=8)
    p.add_argument("--batch-wait-ms", type=float, default=5.0)
    p.add_argument("--warmup", type=int, default=4, help="requests before measuring, per server")
    p.add_argument("--json", default="", help="write the report here")
    p.add_argument("--plot", default="", help="write a PNG plot here")
    p.add_argument("--server-log", default="", help="server log file (default: none)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vlm_ros.bench.serve_load import run_load
    from vlm_ros.engines.scenes import render_bench_scenes
    from vlm_ros.remote.client import RemoteConfig, RemoteGrounder
    from vlm_ros.serve.process import ServeProcess

    clients = [int(v) for v in args.clients.split(",")]
    replica_counts = [int(v) for v in args.replicas.split(",")]
    frames = [(s.rgb, s.instruction) for s in render_bench_scenes(args.scenes)]
    runs = []
    for replicas in replica_counts:
        serve_args = ["--backend", args.backend, "--replicas", str(replicas), "--threads", str(args.threads),
                      "--max-batch-size", str(args.max_batch_size), "--batch-wait-ms", str(args.batch_wait_ms)]
        if args.model_path:
            serve_args += ["--model-path", args.model_path]
        with ServeProcess(serve_args, log_path=args.server_log or None, ready_timeout_s=600.0) as server:
            print(f"server with {replicas} replica(s) ready in {server.startup_s:.1f} s", flush=True)
            warm = RemoteGrounder(RemoteConfig(url=server.url, timeout_s=60.0, retries=0))
            for rgb, instruction in frames[:args.warmup * replicas]:
                warm.ground(rgb, instruction)
            warm.close()
            for k in clients:
                result = run_load(server.url, frames, k, args.duration, args.max_requests, replicas,
                                  pids_fn=server.pids)
                runs.append(result.as_dict())
                lat = result.latency_ms
                print(f"replicas {replicas} clients {k:2d}: {result.throughput_plans_s:6.2f} plans/s, "
                      f"p50 {lat['p50']:.0f} p95 {lat['p95']:.0f} p99 {lat['p99']:.0f} ms, errors {result.errors}, "
                      f"server CPU {result.server_cpu_percent:.0f} %, PSS {result.server_mem_mb['max']:.0f} MB",
                      flush=True)
    report = {"runs": runs, "summary": summary(runs), "setup": {
        "command": "vlm-ros bench-serve " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                                                     if k not in ("func", "command") and v not in ("", None)),
        "backend": args.backend, "threads_per_replica": args.threads, "max_batch_size": args.max_batch_size,
        "batch_wait_ms": args.batch_wait_ms, "scenes": args.scenes, "cpu_count": os.cpu_count(),
        "machine": platform.machine(), "loadavg_1min_at_end": round(os.getloadavg()[0], 2)}}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        from vlm_ros.bench.serve_plot import write_plot

        write_plot(runs, args.plot)
    print(markdown_table(runs))
    for line in report["summary"]["lines"]:
        print(line)
    return 0


def summary(runs: list[dict]) -> dict:
    """Per replica count: throughput at the most clients over throughput at one, and errors."""
    out: dict = {"lines": []}
    for replicas in sorted({r["replicas"] for r in runs}):
        mine = sorted((r for r in runs if r["replicas"] == replicas), key=lambda r: r["clients"])
        one = next((r for r in mine if r["clients"] == 1), None)
        top = mine[-1]
        ratio = top["throughput_plans_s"] / one["throughput_plans_s"] if one and one["throughput_plans_s"] else 0.0
        errors = sum(r["errors"] for r in mine)
        out[f"replicas_{replicas}"] = {"speedup_max_clients_vs_1": round(ratio, 2), "max_clients": top["clients"],
                                       "errors": errors}
        out["lines"].append(f"replicas {replicas}: throughput({top['clients']}) / throughput(1) = {ratio:.2f}, "
                            f"{errors} errors")
    return out


def markdown_table(runs: list[dict]) -> str:
    """The README table: one row per (replicas, clients)."""
    rows = ["| replicas | robots | plans/s | p50 ms | p95 ms | p99 ms | errors | server CPU % | server PSS MB (max) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["replicas"], r["clients"])):
        lat = r["latency_ms"]
        rows.append(f"| {r['replicas']} | {r['clients']} | {r['throughput_plans_s']:.2f} | {lat['p50']:.0f} | "
                    f"{lat['p95']:.0f} | {lat['p99']:.0f} | {r['errors']} | {r['server_cpu_percent']:.0f} | "
                    f"{r['server_mem_mb']['max']:.0f} |")
    return "\n".join(rows)
