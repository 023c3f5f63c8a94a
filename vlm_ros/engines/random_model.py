"""A randomly initialised model directory, laid out like the shipped one.

For tests (tiny config: fast) and for latency measurements before trained weights exist
(default config: the shipped architecture, so timings are the real model's, except that an
untrained model rarely stops early and so decodes its full token budget).
"""

from __future__ import annotations

from pathlib import Path

import torch

SIZES = ("tiny", "default")
POINTING_TOKENS = ["pick", "<loc>", "<eos>"]  # an untrained model restricted to these points a lot


def save_random_model(out_dir: Path, size: str = "tiny", seed: int = 0, only_tokens: list[str] | None = None) -> Path:
    """Write config.json, model.safetensors, tokenizer files and processor_config.json to `out_dir`.

    only_tokens: make the model emit only these tokens (other lm_head rows zeroed, these scaled
    up), e.g. ["pick", "<loc>", "<eos>"], so that an untrained model still exercises pointer calls,
    `<loc>` feedback and pick bans, and give its pointer logits a trained model's spread.
    """
    from vlm_ros.models.config import default_config, tiny_config
    from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
    from vlm_ros.models.tabletop_vlm import TabletopVlm
    from vlm_ros.models.tokenizer import build_tokenizer
    from vlm_ros.training.grammar import load_template_set, vocabulary_texts

    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    tokenizer = build_tokenizer(vocabulary_texts(load_template_set("train")))
    make = tiny_config if size == "tiny" else default_config
    torch.manual_seed(seed)
    model = TabletopVlm(make(len(tokenizer))).eval()
    with torch.no_grad():  # zero in a fresh model; random here so that parity tests exercise it
        noise = torch.randn(model.copy_head.key_next.shape, generator=torch.Generator().manual_seed(seed + 1))
        model.copy_head.key_next.copy_(0.05 * noise)  # own generator: the other weights stay as they were
    if only_tokens:
        keep = tokenizer.convert_tokens_to_ids(only_tokens)
        with torch.no_grad():
            weight = model.lm_head.weight  # [V, D]
            rows = weight[keep] * 50.0
            weight.zero_()
            weight[keep] = rows
            # untrained pointer logits span ~1e-4, so float noise decides near-ties between patches;
            # a trained pointer's span is a few units, which this imitates
            model.pointer.query.weight.mul_(200.0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    ImageProcessor(ImageProcessorConfig(image_size=model.config.vision_config.image_size)).save_pretrained(out_dir)
    return out_dir
