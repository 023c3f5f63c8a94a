"""Every test process talks DDS on loopback only, in a ROS domain of its own."""

from __future__ import annotations

import os

import pytest

from vlm_ros.ros.dds_profile import use_large_data_profile

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
# Distinct per process so parallel or concurrent test runs never see each other's nodes.
# VLM_ROS_TEST_DOMAINS="FIRST:COUNT" confines a checkout's tests to a range of domains, so
# several checkouts testing at once on one machine keep apart (default 1:100).
_first, _count = (int(v) for v in os.environ.get("VLM_ROS_TEST_DOMAINS", "1:100").split(":"))
os.environ["ROS_DOMAIN_ID"] = str(_first + os.getpid() % _count)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Camera-sized frames need Fast DDS's large shared-memory segment, in tests as in use (vlm_ros.ros.dds_profile).
use_large_data_profile()
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def ros_context():
    """rclpy initialised for one module's in-process graph (`pytest.mark.usefixtures("ros_context")`)."""
    import rclpy

    rclpy.init()
    yield
    rclpy.shutdown()
