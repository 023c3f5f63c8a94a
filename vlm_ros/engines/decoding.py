"""Greedy decoding over an engine Runtime (ONNX Runtime, TensorRT): the one loop of
`vlm_ros.models.decoding`, re-exported where the engine code and its tests look for it."""

from __future__ import annotations

from vlm_ros.models.decoding import choose_patch, decode_program, point_from_offsets

greedy_decode = decode_program

__all__ = ["choose_patch", "greedy_decode", "point_from_offsets"]
