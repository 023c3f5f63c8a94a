"""Plain-Python types shared by every layer. Imports nothing from ROS or torch."""
