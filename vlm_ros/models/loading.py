"""Loading a saved model directory, with errors that name the missing or broken file."""

from __future__ import annotations

import json
from pathlib import Path

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.models.processor import PROCESSOR_FILE

REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", PROCESSOR_FILE)


def load_pretrained(path: str | Path):
    """-> (TabletopVlm, tokenizer, ImageProcessor), offline. Raises ModelLoadError naming the path."""
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"No model directory at {path}.")
    for name in REQUIRED_FILES:
        if not (path / name).is_file():
            raise ModelLoadError(f"The model at {path} is missing {path / name}.")
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{path / 'config.json'} is not valid JSON: {error}") from None
    if config.get("model_type") != "tabletop_vlm":
        raise ModelLoadError(f"{path / 'config.json'} describes a {config.get('model_type')!r} model, "
                             "not the tabletop_vlm this backend runs.")
    from transformers import PreTrainedTokenizerFast

    from vlm_ros.models.processor import ImageProcessor
    from vlm_ros.models.tabletop_vlm import TabletopVlm

    try:
        model = TabletopVlm.from_pretrained(path, local_files_only=True)
        tokenizer = PreTrainedTokenizerFast.from_pretrained(path, local_files_only=True)
        processor = ImageProcessor.from_pretrained(path)
    except Exception as error:
        raise ModelLoadError(f"Could not load the model at {path}: {type(error).__name__}: {error}") from None
    if len(tokenizer) > model.config.text_config.vocab_size:
        raise ModelLoadError(f"The tokenizer at {path} has {len(tokenizer)} tokens but the model only "
                             f"{model.config.text_config.vocab_size}.")
    return model.eval(), tokenizer, processor
