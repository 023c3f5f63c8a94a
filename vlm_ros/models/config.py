"""Configuration of the default tabletop grounding model: a LLaVA config plus the pointer head.

Defaults are the shipped `tabletop-tiny` model; tests override them with a tiny config.
"""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

IMAGE_SIZE = 128  # model input is a square IMAGE_SIZE x IMAGE_SIZE crop of the frame [px]
PATCH_SIZE = 8  # ViT patch [px]; the pointer picks one of (IMAGE_SIZE / PATCH_SIZE)^2 patches


@strict
class TabletopVlmConfig(LlavaConfig):
    """LlavaConfig (CLIP vision tower, MLP projector, Llama decoder) + pointer-head sizes."""

    model_type = "tabletop_vlm"

    pointer_dim: int = 128  # width of the pointer's query/key space
    offset_hidden: int = 128  # width of the sub-patch offset MLP
    loc_token_id: int = 5  # the token at which the pointer fires
    sep_token_id: int = 3  # ends the instruction; the program follows
    eos_token_id: int = 4  # ends the program
    max_program_tokens: int = 48  # decoding budget (a 6-step program is ~28 tokens)
    presence_threshold: float = 0.65  # grounder: refuse a block the patch classifier sees in no patch above this
    bowl_presence_threshold: float = 0.0  # ... a bowl it sees in no two adjacent patches above this; 0: as blocks
    refusal_overrule_threshold: float = 0.0  # decode again without `refuse` when the refused object scores this; 0: off
    num_patch_classes: int = 23  # patch classifier: clear table + 11 colours x {block, bowl} (models.labels)

    @property
    def grid_size(self) -> int:
        return self.vision_config.image_size // self.vision_config.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid_size**2


def default_config(vocab_size: int, **overrides: object) -> TabletopVlmConfig:
    """The shipped architecture (about 3 M parameters)."""
    vision = CLIPVisionConfig(
        image_size=IMAGE_SIZE, patch_size=PATCH_SIZE, hidden_size=128, intermediate_size=512,
        num_hidden_layers=4, num_attention_heads=4, projection_dim=128,
    )
    text = LlamaConfig(
        vocab_size=vocab_size, hidden_size=192, intermediate_size=512, num_hidden_layers=4,
        num_attention_heads=6, num_key_value_heads=6, max_position_embeddings=512,
        tie_word_embeddings=False, pad_token_id=0, bos_token_id=2, eos_token_id=4,
    )
    kwargs: dict = dict(
        vision_config=vision, text_config=text, image_token_index=6,
        image_seq_length=(IMAGE_SIZE // PATCH_SIZE) ** 2, vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    kwargs.update(overrides)
    return TabletopVlmConfig(**kwargs)


def tiny_config(vocab_size: int, image_size: int = 32, patch_size: int = 8) -> TabletopVlmConfig:
    """A few-thousand-parameter model for tests."""
    vision = CLIPVisionConfig(
        image_size=image_size, patch_size=patch_size, hidden_size=32, intermediate_size=64,
        num_hidden_layers=1, num_attention_heads=2, projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
        tie_word_embeddings=False, pad_token_id=0, bos_token_id=2, eos_token_id=4,
    )
    return TabletopVlmConfig(
        vision_config=vision, text_config=text, image_token_index=6,
        image_seq_length=(image_size // patch_size) ** 2, vision_feature_layer=-1,
        vision_feature_select_strategy="default", pointer_dim=16, offset_hidden=16,
    )
