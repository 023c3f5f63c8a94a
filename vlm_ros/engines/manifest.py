"""`manifest.json` beside the exported graphs: what each graph takes and returns, and the model
sizes a runtime needs to preallocate buffers, so no runtime has to load the PyTorch model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vlm_ros.core.errors import ModelLoadError

MANIFEST = "manifest.json"
FORMAT = 7  # bump when the graphs or the manifest change; old exports are then re-made, not misread
GRAPHS = ("vision", "embed", "decoder", "copy_keys", "token_scores", "pointer_keys", "pointer_scores",
          "pointer_offsets")


@dataclass
class TensorSpec:
    name: str
    shape: list[int | str]  # ints are fixed, strings name a dynamic axis
    dtype: str  # numpy dtype name


@dataclass
class GraphSpec:
    file: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]


@dataclass
class ModelDims:
    image_size: int  # model input side [px]
    patch_size: int  # [px]
    num_patches: int  # P, image tokens that prefix the sequence
    hidden_size: int  # D
    num_layers: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    max_positions: int  # longest sequence (P + prompt + program) the cache is sized for
    loc_token_id: int
    sep_token_id: int
    eos_token_id: int
    max_program_tokens: int
    pointer_dim: int  # K, the pointer's query/key width
    offset_hidden: int  # H, the offset MLP's width
    copy_dim: int  # the copy head's query/key width
    num_patch_classes: int  # C, the patch classifier's classes (models.labels)
    presence_threshold: float = 0.0  # the model's presence check (verify_program), 0: off
    bowl_presence_threshold: float = 0.0  # the same for bowls (two adjacent patches), 0: presence_threshold
    refusal_overrule_threshold: float = 0.0  # a refusal of an object scoring this is decoded again, 0: off

    @property
    def grid_size(self) -> int:
        return self.image_size // self.patch_size

    def kv_shape(self, length: int) -> tuple[int, int, int, int]:
        """Shape of one layer's keys (or values) over `length` positions."""
        return (1, self.num_kv_heads, length, self.head_dim)


@dataclass
class Manifest:
    model_name: str
    model_hash: str  # hash of the model files the graphs came from
    dtype: str  # float32 | float16: the graphs' float inputs and outputs
    opset: int
    dims: ModelDims
    graphs: dict[str, GraphSpec]
    kv_layout: str = ("decoder: past_key_i, past_value_i [1, kv_heads, past, head_dim] in; present_key_i, "
                      "present_value_i [1, kv_heads, past + tokens, head_dim] out (past, then the new positions)")
    format: int = FORMAT
    versions: dict[str, str] = field(default_factory=dict)

    def save(self, directory: Path) -> Path:
        path = Path(directory) / MANIFEST
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = Path(directory) / MANIFEST
        if not path.is_file():
            raise ModelLoadError(f"{path} is missing: export the model with `vlm-ros export` first.")
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ModelLoadError(f"{path} has export format {data.get('format')}, this code reads {FORMAT}: "
                                 "export the model again.")
        graphs = {name: GraphSpec(g["file"], [TensorSpec(**t) for t in g["inputs"]],
                                  [TensorSpec(**t) for t in g["outputs"]]) for name, g in data["graphs"].items()}
        missing = [Path(directory, g.file) for g in graphs.values() if not Path(directory, g.file).is_file()]
        if missing:
            raise ModelLoadError(f"ONNX files missing in {directory}: {', '.join(p.name for p in missing)}")
        return cls(data["model_name"], data["model_hash"], data["dtype"], data["opset"], ModelDims(**data["dims"]),
                   graphs, data["kv_layout"], data["format"], data.get("versions", {}))
