"""Benchmarks and the demo: episodes run through the real ROS graph (sim bridge + grounding node)."""
