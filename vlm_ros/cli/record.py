"""`vlm-ros record`: write the camera, instruction, plan and tf topics to a rosbag2 bag."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("record", help="record camera, instructions and plans to a rosbag2 bag",
                              description=__doc__.splitlines()[0] + ". Stops on Ctrl-C or after --duration.")
    p.add_argument("--out", required=True, help="bag folder to create (must not exist)")
    p.add_argument("--topics", nargs="+", default=None, metavar="TOPIC",
                   help="topics to record (default: image, image/compressed, depth, camera_info, camera_pose, "
                        "instruction, plan, /tf, /tf_static; relative names resolve in --namespace)")
    p.add_argument("--namespace", default="", help="namespace of the grounding node's topics, e.g. /robot1")
    p.add_argument("--storage", choices=["mcap", "sqlite3"], default="mcap")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: until Ctrl-C)")
    p.add_argument("--discover-s", type=float, default=3.0,
                   help="how long to look for the types of topics that are not in the default list")
    p.set_defaults(func=run)


def topic_types(node, names: list[str], wait_s: float) -> dict[str, str]:
    """Types of the topics asked for: the default list's, else whatever the graph advertises."""
    import time

    from vlm_ros.bags.types import DEFAULT_TOPICS

    known = {node.resolve_topic_name(n): t for n, t in DEFAULT_TOPICS.items()}
    out, deadline = {}, time.monotonic() + wait_s
    for name in names:
        resolved = node.resolve_topic_name(name)
        while resolved not in known and time.monotonic() < deadline:
            known.update({n: ts[0] for n, ts in node.get_topic_names_and_types() if ts})
            time.sleep(0.1)
        if resolved not in known:
            raise SystemExit(f"vlm-ros record: no publisher advertises {resolved}, so its type is unknown")
        out[name] = known[resolved]
    return out


def run(args: argparse.Namespace) -> int:
    import time

    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from vlm_ros.bags.recorder import BagRecorder

    rclpy.init()
    recorder = None
    try:
        if args.topics:
            probe = rclpy.create_node("vlm_ros_record_probe", namespace=args.namespace or None)
            topics = topic_types(probe, args.topics, args.discover_s)
            probe.destroy_node()
        else:
            topics = None
        recorder = BagRecorder(args.out, topics, args.storage, namespace=args.namespace or None)
        executor = SingleThreadedExecutor()
        executor.add_node(recorder)
        end = time.monotonic() + args.duration if args.duration > 0 else float("inf")
        while rclpy.ok() and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if recorder is not None:
            counts = recorder.close()
            print(f"wrote {sum(counts.values())} messages to {args.out}: "
                  + ", ".join(f"{t} {n}" for t, n in sorted(counts.items())))
            recorder.destroy_node()
        rclpy.try_shutdown()
    return 0
