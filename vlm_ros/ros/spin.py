"""One way to run a node as a process: init, multi-threaded spin, clean shutdown on Ctrl-C/SIGTERM."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from vlm_ros.ros.dds_profile import use_large_data_profile


def spin_node(make_node: Callable[[], Node], args: list[str] | None = None, threads: int = 4) -> None:
    """Several threads, so a long callback (a model, a plan executing) never starves the camera topics."""
    use_large_data_profile()  # before init: the participant reads it when it is created
    rclpy.init(args=args)
    node = None
    try:
        node = make_node()
        executor = MultiThreadedExecutor(num_threads=threads)
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


class BackgroundSpin:
    """Spin nodes on a daemon thread, and stop it so the thread has left rclpy before the process exits.

    A spin thread still inside rclpy's wait set when the interpreter finalizes aborts the
    process ("terminate called without an active exception", exit -6), after the work is done.
    """

    def __init__(self, *nodes: Node, threads: int = 2):
        self.executor = SingleThreadedExecutor() if threads == 1 else MultiThreadedExecutor(num_threads=threads)
        for node in nodes:
            self.executor.add_node(node)
        self._thread = threading.Thread(target=self._spin, daemon=True, name="rclpy-spin")
        self._thread.start()

    def _spin(self) -> None:
        with contextlib.suppress(ExternalShutdownException):  # rclpy was shut down first: nothing left to spin
            self.executor.spin()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Shut the executor down and wait for the thread (bounded: a stuck callback must not hang the caller)."""
        self.executor.shutdown(timeout_sec=timeout_s)
        self._thread.join(timeout=timeout_s)
