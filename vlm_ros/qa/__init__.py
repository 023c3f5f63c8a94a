"""Quality assurance: hostile inputs for the grounding path, shared by the tests and `vlm-ros fuzz`."""
