"""Pixels, depth and rigid transforms. Plain numpy; no ROS."""
