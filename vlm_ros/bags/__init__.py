"""rosbag2 record and replay (rosbags library): sessions kept as regression tests."""
