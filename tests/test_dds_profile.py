"""The Fast DDS large-data profile: chosen unless the user chose one, and camera frames arrive whole with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vlm_ros.ros import dds_profile

ROOT = Path(__file__).resolve().parents[1]


def test_profile_is_set_unless_the_user_set_one(monkeypatch):
    for name in dds_profile.PROFILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RMW_IMPLEMENTATION", raising=False)
    assert dds_profile.use_large_data_profile() == str(dds_profile.PROFILE_PATH)
    assert os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] == str(dds_profile.PROFILE_PATH)
    monkeypatch.setenv("FASTDDS_DEFAULT_PROFILES_FILE", "/etc/mine.xml")
    assert dds_profile.use_large_data_profile() == "/etc/mine.xml"
    monkeypatch.delenv("FASTDDS_DEFAULT_PROFILES_FILE")
    monkeypatch.setenv("FASTRTPS_DEFAULT_PROFILES_FILE", "/etc/old_name.xml")  # the deprecated name counts too
    assert dds_profile.use_large_data_profile() == "/etc/old_name.xml"
    monkeypatch.delenv("FASTRTPS_DEFAULT_PROFILES_FILE")
    monkeypatch.setenv("RMW_IMPLEMENTATION", "rmw_cyclonedds_cpp")  # another RMW: Fast DDS profiles mean nothing
    assert dds_profile.use_large_data_profile() == ""
    assert "FASTDDS_DEFAULT_PROFILES_FILE" not in os.environ


def test_profile_ships_with_the_package():
    text = dds_profile.PROFILE_PATH.read_text()
    assert "<segment_size>33554432</segment_size>" in text and "UDPv4" in text


@pytest.mark.ros
def test_camera_sized_frames_arrive_whole_with_the_profile():
    """640x480 colour and depth at 5 Hz, best effort: the default transports lost most of them here."""
    domain = str(int(os.environ["ROS_DOMAIN_ID"]) + 100)  # the script's own domain, clear of this process's
    result = subprocess.run([sys.executable, str(ROOT / "tools/dds_frame_loss.py"), "--frames", "20",
                             "--profile", "vlm_ros", "--domain", domain],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    counts = [int(part.split("/")[0]) for part in result.stdout.replace(",", "").split() if "/" in part]
    assert len(counts) == 2 and min(counts) >= 18, result.stdout  # best effort may drop one; it lost 10+ before
