"""Load a Hugging Face VLM processor offline, also where torchvision is missing.

Qwen2.5/3-VL, SmolVLM2 and InternVL processors take a `video_processor`, and video processors
need torchvision; PyPI's torchvision does not import with the CPU torch used here (it does on
Jetson images). Images never need it, so when torchvision is absent the processor is built from
its parts (image processor, tokenizer, chat template, saved kwargs) without the video part.
"""

from __future__ import annotations

import inspect
import json
import types
from pathlib import Path

from vlm_ros.core.errors import ModelLoadError


def torchvision_available() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # a CUDA build next to CPU torch raises RuntimeError, not ImportError
        return False
    return True


def _saved_kwargs(path: Path) -> dict:
    for name in ("processor_config.json", "preprocessor_config.json"):
        file = path / name
        if file.is_file():
            data = json.loads(file.read_text())
            if "processor_class" in data or name == "processor_config.json":
                return data
    return {}


def _chat_template(path: Path) -> str | None:
    jinja = path / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text()
    legacy = path / "chat_template.json"
    if legacy.is_file():
        return json.loads(legacy.read_text()).get("chat_template")
    return None


def image_only_class(base: type) -> type:
    """`base` without its video processor: same name, same saved files.

    transformers reads a processor's parts and saved kwargs from `inspect.signature(__init__)`,
    so the replacement __init__ carries the base signature minus `video_processor`.
    """
    params = [p for name, p in inspect.signature(base.__init__).parameters.items() if name != "video_processor"]

    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, video_processor=None, **kwargs)
        if getattr(self, "video_processor", None) is None:  # SmolVLM's chat template reads num_frames / fps
            self.video_processor = types.SimpleNamespace(num_frames=None, fps=None)

    __init__.__signature__ = inspect.Signature(params)
    return type(base.__name__, (base,), {"__init__": __init__, "__module__": base.__module__})


def image_only_processor(path: Path, class_name: str):
    """`class_name` built from its saved parts with no video processor."""
    import transformers
    from transformers import AutoImageProcessor, AutoTokenizer

    base = getattr(transformers, class_name, None)
    if base is None:
        raise ModelLoadError(f"transformers {transformers.__version__} has no processor class {class_name!r} "
                             f"(named in {path / 'processor_config.json'}).")
    accepted = set(inspect.signature(base.__init__).parameters) - {"self", "image_processor", "tokenizer",
                                                                   "video_processor", "args", "kwargs"}
    extra = {k: v for k, v in _saved_kwargs(path).items() if k in accepted}
    template = _chat_template(path)
    if template is not None and "chat_template" in accepted:
        extra["chat_template"] = template
    image_processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return image_only_class(base)(image_processor=image_processor, tokenizer=tokenizer, **extra)


def load_processor(path: str | Path):
    """AutoProcessor, local files only; the image-only rebuild when the video part cannot load."""
    from transformers import AutoProcessor

    path = Path(path)
    try:
        return AutoProcessor.from_pretrained(path, local_files_only=True)
    except (OSError, AttributeError, ImportError, ValueError) as error:
        if torchvision_available():
            raise ModelLoadError(f"Could not load the processor at {path}: {type(error).__name__}: {error}") from None
        class_name = _saved_kwargs(path).get("processor_class")
        if not class_name:
            raise ModelLoadError(f"Could not load the processor at {path} ({error}) and it names no "
                                 "processor_class to rebuild without torchvision.") from None
        try:
            return image_only_processor(path, class_name)
        except ImportError as missing:
            raise ModelLoadError(f"The {class_name} at {path} needs a package that is not installed: {missing}") \
                from None
