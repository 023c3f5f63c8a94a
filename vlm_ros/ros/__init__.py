"""The ROS layer: nodes and the message ⇄ numpy conversions they share.

Only this package (and the CLI) imports rclpy; everything it calls is plain Python.
"""
