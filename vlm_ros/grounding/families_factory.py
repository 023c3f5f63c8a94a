"""Which requests the transformers (pretrained VLM family) backend serves, and its options.

`backend: transformers` always; `backend: auto` when `model_path` is a Hugging Face checkpoint
(config.json model_type other than our tabletop_vlm), so that an unsupported family such as
Molmo v1 gets its own clear error instead of a tabletop-model one.
"""

from __future__ import annotations

from typing import Any

from vlm_ros.core.errors import ModelLoadError

FAMILY_OPTION_NAMES = ("model_family", "dtype", "oracle_format", "max_new_tokens", "planning")


def family_options(params: dict[str, Any]) -> dict[str, Any]:
    """The family options out of a node's parameter dict (absent ones are left to defaults)."""
    return {name: params[name] for name in FAMILY_OPTION_NAMES if name in params}


def wants_transformers(backend: str, model_path: str, options: dict[str, Any]) -> bool:
    if backend == "transformers":
        return True
    if backend != "auto" or not model_path:
        return False
    from vlm_ros.models.hf_vlm import read_model_type

    return read_model_type(model_path) not in ("", "tabletop_vlm")


def make_family_grounder(model_path: str, device: str, options: dict[str, Any]):
    if not model_path:
        raise ModelLoadError("backend transformers needs model_path: a local Hugging Face checkpoint directory.")
    from vlm_ros.models.hf_vlm import load_transformers_grounder

    return load_transformers_grounder(model_path, device=device, dtype=options.get("dtype") or "float32",
                                      model_family=options.get("model_family", ""),
                                      max_new_tokens=int(options.get("max_new_tokens") or 64),
                                      planning=options.get("planning") or "per_phrase")
