"""A synthetic dataset directory (no PyBullet) for training tests and smoke runs."""

from __future__ import annotations

import json
from pathlib import Path

from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.training.scenes import save_shard
from vlm_ros.training.synthetic import synthetic_locations, synthetic_scene


def write_synthetic_dataset(root: Path, scenes: int, image_size: int = 32) -> Path:
    """root/scenes_0000000.npz with `scenes` synthetic scenes, and root/locations.json."""
    proc = ImageProcessor(ImageProcessorConfig(image_size=image_size))
    root.mkdir(parents=True, exist_ok=True)
    save_shard(root / "scenes_0000000.npz", [synthetic_scene(s, proc) for s in range(scenes)])
    (root / "locations.json").write_text(json.dumps(synthetic_locations(proc)))
    return root
