"""vlm_ros: camera + instruction → checked plan of robot action primitives with 3D targets."""

__version__ = "0.1.0"
