"""`backend: transformers`: any registered VLM family, loaded by local path, offline.

AutoModelForImageTextToText + the checkpoint's processor, `local_files_only`, on cpu or cuda in
float32/bfloat16/float16. The family comes from config.json `model_type` unless `model_family`
overrides it; the FamilyGrounder then asks the model to point at each instruction phrase.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.families import UNSUPPORTED, FamilyAdapter, family_for_model_type, get_family, supported_text
from vlm_ros.grounding.family_grounder import PointerAnswer
from vlm_ros.grounding.single_call import check_planning, make_planner

DTYPES = ("float32", "bfloat16", "float16")


def read_model_type(path: str | Path) -> str:
    """config.json `model_type` of a checkpoint directory, '' when there is none."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return ""
    try:
        return str(json.loads(config.read_text()).get("model_type", ""))
    except (OSError, ValueError):
        return ""


def is_hf_family_checkpoint(path: str | Path) -> bool:
    """True when `path` holds a checkpoint of a family this backend serves (for backend `auto`)."""
    adapter = family_for_model_type(read_model_type(path))
    return adapter is not None and adapter.loadable


def resolve_family(path: Path, model_family: str = "") -> FamilyAdapter:
    """The adapter for this checkpoint; ModelLoadError naming what is supported and why not."""
    model_type = read_model_type(path)
    if model_family:
        adapter = get_family(model_family)
    else:
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"No config.json in {path}: not a Hugging Face checkpoint directory.")
        if model_type in UNSUPPORTED:
            raise ModelLoadError(f"{path} is a {model_type!r} checkpoint: {UNSUPPORTED[model_type]}. "
                                 f"The transformers backend supports: {supported_text()}.")
        adapter = family_for_model_type(model_type)
        if adapter is None:
            raise ModelLoadError(f"{path} is a {model_type!r} checkpoint, which no VLM family here serves. "
                                 f"The transformers backend supports: {supported_text()} "
                                 "(set model_family to force one).")
    if not adapter.loadable:
        raise ModelLoadError(f"The {adapter.name} family cannot be loaded by the transformers backend "
                             f"({UNSUPPORTED.get(adapter.name, 'it is served by another backend')}); "
                             f"supported: {supported_text()}.")
    return adapter


def _check_optional_packages(adapter: FamilyAdapter) -> None:
    from vlm_ros.models.hf_processor import torchvision_available

    for package in adapter.needs:
        if package == "torchvision":
            if not torchvision_available():
                raise ModelLoadError(f"The {adapter.name} image processor needs torchvision, which does not import "
                                     "here; install the torchvision build that matches your torch (Jetson images "
                                     "ship one).")
            continue
        try:
            __import__(package)
        except ImportError:
            raise ModelLoadError(f"The {adapter.name} processor needs the Python package {package!r}: "
                                 f"pip install {package}") from None


class TransformersPointer:
    """One generate() per phrase with the family's prompt; greedy, bounded by max_new_tokens."""

    def __init__(self, model, processor, device: str, dtype, max_new_tokens: int):
        self.model, self.processor = model, processor
        self.device, self.dtype, self.max_new_tokens = device, dtype, max_new_tokens

    def _text(self, adapter: FamilyAdapter, prompt: str) -> str:
        if not adapter.chat:
            return prompt
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def point(self, rgb: np.ndarray, adapter: FamilyAdapter, phrase: str) -> PointerAnswer:
        return self.ask(rgb, adapter, adapter.prompt(phrase))

    def ask(self, rgb: np.ndarray, adapter: FamilyAdapter, prompt: str) -> PointerAnswer:
        """One greedy generate() for `prompt` about `rgb`; the answer and the image size the model saw."""
        import torch
        from PIL import Image

        inputs = self.processor(images=[Image.fromarray(np.ascontiguousarray(rgb))], text=[self._text(adapter, prompt)],
                                return_tensors="pt")
        inputs = {k: (v.to(self.device, self.dtype) if torch.is_floating_point(v) else v.to(self.device))
                  for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        if not self.model.config.is_encoder_decoder:
            out = out[:, inputs["input_ids"].shape[1]:]
        text = self.processor.batch_decode(out, skip_special_tokens=adapter.skip_special_tokens)[0]
        return PointerAnswer(text, self._processed_size(inputs))

    def _processed_size(self, inputs: dict) -> tuple[int, int] | None:
        """(w, h) the Qwen processors resized to, from image_grid_thw (patches of patch_size px)."""
        grid = inputs.get("image_grid_thw")
        if grid is None:
            return None
        patch = int(getattr(self.processor.image_processor, "patch_size", 14))
        _, grid_h, grid_w = (int(v) for v in grid[0])
        return grid_w * patch, grid_h * patch


def load_transformers_grounder(path: str | Path, device: str = "cpu", dtype: str = "float32",
                               model_family: str = "", max_new_tokens: int = 64, planning: str = "per_phrase"):
    """A FamilyGrounder over the checkpoint at `path`. Raises ModelLoadError with the reason."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"No model directory at {path}.")
    adapter = resolve_family(path, model_family)
    check_planning(adapter, planning)
    if dtype not in DTYPES:
        raise ModelLoadError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}.")
    _check_optional_packages(adapter)
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise ModelLoadError("The transformers backend needs Pillow (pip install pillow; python3-pil).") from None
    import torch
    from transformers import AutoModelForImageTextToText

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r} was asked for but torch sees no CUDA device.")
    from vlm_ros.models.hf_processor import load_processor

    processor = load_processor(path)
    try:
        model = AutoModelForImageTextToText.from_pretrained(path, local_files_only=True, dtype=getattr(torch, dtype))
    except Exception as error:  # every loading failure is reported with the path, never a crash
        raise ModelLoadError(f"Could not load {path} with AutoModelForImageTextToText: "
                             f"{type(error).__name__}: {error}") from None
    model = model.to(device).eval()
    pointer = TransformersPointer(model, processor, device, getattr(torch, dtype), max_new_tokens)
    model_id = f"{path.name} ({adapter.name} via transformers, {device}, {dtype})"
    return make_planner(adapter, pointer, model_id, planning)
