"""VLM family adapters in one registry: prompt, output parser and coordinate frame per family.

    from vlm_ros.families import FAMILIES, get_family
    get_family("qwen2_5_vl").parse(text, image_size=(640, 480), processed_size=(644, 476))
    -> [("red block", (312.0, 240.5)), ...]   # original-image pixels; boxes keep `.box`

`family_for_model_type` maps a checkpoint's config.json `model_type` to its adapter; model types
known to need remote code are rejected with the reason (UNSUPPORTED).
"""

from __future__ import annotations

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.families import florence2, internvl, molmo, molmo2, paligemma, qwen2_5_vl, qwen3_vl, vlm_ros_program
from vlm_ros.families.base import FamilyAdapter, Frame, Located
from vlm_ros.families.prompted_json import GEMMA3, IDEFICS3, SMOLVLM

_ADAPTERS: tuple[FamilyAdapter, ...] = (
    qwen2_5_vl.ADAPTER, qwen3_vl.ADAPTER, paligemma.ADAPTER, florence2.ADAPTER, IDEFICS3, SMOLVLM, molmo2.ADAPTER,
    GEMMA3, internvl.ADAPTER, molmo.ADAPTER, vlm_ros_program.ADAPTER,
)
REGISTRY: dict[str, FamilyAdapter] = {a.name: a for a in _ADAPTERS}
FAMILIES: tuple[str, ...] = tuple(REGISTRY)
ALIASES: dict[str, str] = {"robobrain": "qwen2_5_vl", "robobrain2": "qwen2_5_vl", "smolvlm2": "smolvlm",
                           "smolvlm1": "idefics3", "qwen3_5": "qwen3_vl", "paligemma2": "paligemma",
                           "tabletop_vlm": "vlm_ros"}
# config.json model_type (or family name) -> why transformers cannot load it here
UNSUPPORTED: dict[str, str] = {
    "molmo": "Molmo v1 is remote code only (no transformers class); serve it with vLLM and use the "
             "remote backend with model_family: molmo",
    "molmo_point": "MolmoPoint decodes points with remote code (extract_image_points)",
    "moondream1": "Moondream is remote code only (no transformers class, no text coordinate format)",
    "moondream": "Moondream is remote code only (no transformers class, no text coordinate format)",
    "internvl_chat": "original InternVL repos are remote code; use the -hf conversions (model_type internvl)",
}
_BY_MODEL_TYPE: dict[str, FamilyAdapter] = {t: a for a in _ADAPTERS for t in a.model_types}


def supported_text() -> str:
    return ", ".join(n for n in FAMILIES if REGISTRY[n].loadable)


def get_family(name: str) -> FamilyAdapter:
    """The adapter called `name` (a family name, alias or config.json model_type)."""
    key = (name or "").strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    adapter = REGISTRY.get(key) or _BY_MODEL_TYPE.get(key)
    if adapter is None:
        why = UNSUPPORTED.get(key)
        raise ModelLoadError(f"Unknown VLM family {name!r}" + (f" ({why})" if why else "")
                             + f"; known families: {', '.join(FAMILIES)}.")
    return adapter


def family_for_model_type(model_type: str) -> FamilyAdapter | None:
    """The adapter for a checkpoint's config.json model_type, or None when no family serves it."""
    return _BY_MODEL_TYPE.get((model_type or "").strip().lower())


__all__ = ["ALIASES", "FAMILIES", "REGISTRY", "UNSUPPORTED", "FamilyAdapter", "Frame", "Located",
           "family_for_model_type", "get_family", "supported_text"]
