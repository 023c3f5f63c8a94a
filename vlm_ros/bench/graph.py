"""Start the simulated cell (sim bridge + grounding node) from launch/sim_demo.launch.yaml."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import rclpy

from vlm_ros.bench.client import GraphClient
from vlm_ros.launch_runner import LaunchSession, find_launch_file
from vlm_ros.ros.dds_profile import use_large_data_profile

READY_TIMEOUT_S = 300.0  # first start on a fresh machine imports torch and loads the model


def loopback_only() -> None:
    """Every process we start talks DDS on loopback only (the project's rule), in a domain we choose."""
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("ROS_DOMAIN_ID", str(30 + os.getpid() % 60))
    use_large_data_profile()  # camera frames arrive whole (see vlm_ros.ros.dds_profile)


@contextlib.contextmanager
def sim_graph(backend: str = "auto", task: str = "put-block-in-bowl", seed: int = 100000, rate_hz: float = 5.0,
              model_path: str = "", gui: bool = False, echo: bool = False, watch_images: bool = False,
              log_dir: Path | None = None, execute_topic_instructions: bool = False,
              closed_loop_params: str = "", model_args: dict[str, str] | None = None) -> Iterator[GraphClient]:
    """Launch the cell as subprocesses, yield a connected client, stop everything on exit.

    closed_loop_params: a parameter file for verification, re-planning and faults
    (vlm_ros.bench.closed_loop.write_params); empty: config/sim_closed_loop.yaml.
    `model_args`: further launch arguments of the grounding node (oracle_format, model_family, device, dtype).
    """
    loopback_only()
    args = {"backend": backend, "task": task, "seed": str(seed), "rate_hz": str(rate_hz),
            "model_path": model_path, "gui": str(gui).lower(),
            "execute_topic_instructions": str(execute_topic_instructions).lower(), **(model_args or {})}
    if closed_loop_params:
        args["closed_loop_params"] = closed_loop_params
    launch_file = find_launch_file("sim_demo.launch.yaml", package="vlm_ros")
    with LaunchSession(launch_file, args, echo=sys.stderr if echo else None, log_dir=log_dir) as session:
        owns_rclpy = not rclpy.ok()
        if owns_rclpy:
            rclpy.init()
        client = GraphClient(watch_images=watch_images)
        try:
            client.wait_for_graph(READY_TIMEOUT_S)
            yield client
        finally:
            client.close()
            if owns_rclpy:
                rclpy.try_shutdown()
            session.request_shutdown("done")
