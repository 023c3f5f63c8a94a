"""What "the same plan" means when backends are compared.

Two backends agree when they decode the same tokens (so the same steps, labels and pointer
patches) and put every point within POINT_ATOL of each other. Comparing the printed program
text instead would fail on float noise: 0.0001 px can flip the 0.1 px rounding of a point.
"""

from __future__ import annotations

import numpy as np

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.models.decoding import DecodedProgram
from vlm_ros.models.torch_grounder import program_text

POINT_ATOL = 0.05  # frame pixels: half the 0.1 px resolution of the program text


def frame_points(grounder, decoded: DecodedProgram, width: int, height: int) -> np.ndarray:
    """[L, 2] points in frame pixels, as `ground()` reports them."""
    points = [grounder.processor.model_to_frame(x, y, width, height) for x, y in decoded.points]
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def plan_difference(a: DecodedProgram, b: DecodedProgram, points_a: np.ndarray, points_b: np.ndarray) -> float:
    """inf when the token sequences differ, else the largest point distance (per axis) in px."""
    if a.token_ids != b.token_ids:
        return float("inf")
    return float(np.abs(points_a - points_b).max()) if len(points_a) else 0.0


def plan_text(grounder, decoded: DecodedProgram, width: int, height: int) -> str:
    """The program text `ground()` would parse or, for an output that does not parse (an
    untrained model), its tokens and points, for showing a difference."""
    words = grounder.tokenizer.convert_ids_to_tokens(decoded.token_ids)
    points = frame_points(grounder, decoded, width, height).tolist()
    try:
        return program_text(words, points)
    except ModelOutputError:
        return "unparsed: " + " ".join(words) + " | " + " ".join(f"({u:.1f}, {v:.1f})" for u, v in points)
