"""TabletopVlm: a LLaVA (CLIP ViT → MLP projector → Llama) with a pointer head.

Sequence layout (no placeholder tokens; image embeddings are a prefix):

    [image patches (P)] [instruction words] <sep> [program tokens] <eos>

The program is words plus `<loc>` tokens, e.g. `pick red block <loc> place green bowl <loc> <eos>`.
At every `<loc>` the pointer head scores the decoder's last-layer image-token states with the
`<loc>` hidden state and regresses a sub-patch offset. The token after a `<loc>` gets a learned
embedding of the chosen patch added (`loc_feedback`), so later steps know earlier choices.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import LlavaForConditionalGeneration

from vlm_ros.models.config import TabletopVlmConfig
from vlm_ros.models.copy_head import CopyHead
from vlm_ros.models.pointer import PointerHead


class TabletopVlm(LlavaForConditionalGeneration):
    config_class = TabletopVlmConfig

    def __init__(self, config: TabletopVlmConfig):
        super().__init__(config)
        hidden = config.text_config.hidden_size
        self.pointer = PointerHead(hidden, config.pointer_dim, config.offset_hidden)
        self.loc_feedback = nn.Embedding(config.num_patches, hidden)
        # training-only auxiliary head: which object (colour x kind, or background) each patch shows
        self.patch_classifier = nn.Linear(hidden, config.num_patch_classes)
        self.copy_head = CopyHead(hidden, config.pointer_dim)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, CopyHead):  # also when a checkpoint predates it: start as the plain key
            nn.init.zeros_(module.key_next)

    # --- the three stages every backend shares -------------------------------------------------
    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """pixel_values [B, 3, S, S] -> image embeddings in the decoder's space [B, P, D]."""
        vision = self.model.vision_tower(pixel_values=pixel_values).last_hidden_state  # [B, 1 + P, Dv]
        return self.model.multi_modal_projector(vision[:, 1:])  # [B, P, D]

    def embed_tokens(self, input_ids: torch.Tensor, feedback: torch.Tensor | None = None) -> torch.Tensor:
        """input_ids [B, T] -> [B, T, D]; feedback [B, T] is the patch chosen at the previous
        `<loc>` (or -1), added as a learned embedding."""
        embeds = self.model.language_model.embed_tokens(input_ids)  # [B, T, D]
        if feedback is not None:
            has = (feedback >= 0).unsqueeze(-1).to(embeds.dtype)  # [B, T, 1]
            embeds = embeds + self.loc_feedback(feedback.clamp(min=0)) * has
        return embeds

    def decode(self, inputs_embeds: torch.Tensor, past_key_values=None, use_cache: bool = False):
        """Llama decoder: [B, T, D] -> (last hidden states [B, T, D], cache)."""
        out = self.model.language_model(inputs_embeds=inputs_embeds, cache=past_key_values, use_cache=use_cache)
        return out.last_hidden_state, out.cache

    # --- training forward --------------------------------------------------------------------
    def class_prior(self, image_states: torch.Tensor, label_class: torch.Tensor) -> torch.Tensor:
        """Pointer prior from the patch classifier: log P(label's class | patch).

        image_states [B, P, D], label_class [B, L] (-1 where the label is not an object) -> [B, L, P].
        """
        logp = torch.log_softmax(self.patch_classifier(image_states).float(), dim=-1)  # [B, P, C]
        index = label_class.clamp(min=0)[:, None, :].expand(-1, logp.shape[1], -1)  # [B, P, L]
        prior = torch.gather(logp, 2, index).transpose(1, 2)  # [B, L, P]
        return prior * (label_class >= 0)[:, :, None]

    def forward_train(self, pixel_values: torch.Tensor, input_ids: torch.Tensor, feedback: torch.Tensor,
                      loc_positions: torch.Tensor, offset_patches: torch.Tensor, loc_class: torch.Tensor,
                      repeats: int = 1) -> dict[str, torch.Tensor]:
        """Teacher-forced pass; each image is shared by `repeats` consecutive instructions.

        pixel_values [N, 3, S, S]; input_ids, feedback [N * repeats, T] (right-padded);
        loc_positions [N * repeats, L] indices into T of the `<loc>` tokens (0-padded, masked by the loss);
        offset_patches [N * repeats, L, M] patches whose sub-patch offsets are regressed;
        loc_class [N * repeats, L] patch class of each `<loc>`'s label (-1: a place, not an object).
        The image prefix runs through the decoder once per image and its KV cache is shared.
        Returns, with B = N * repeats: log-probabilities [B, T, V] (LM head mixed with the copy head),
        pointer logits [B, L, P], offsets [B, L, M, 2] and the patch-class logits [N, P, C].
        """
        image = self.encode_image(pixel_values)  # [N, P, D]
        image_states, cache = self.decode(image, use_cache=True)  # [N, P, D]
        if repeats > 1:
            cache.batch_repeat_interleave(repeats)
            image_states = image_states.repeat_interleave(repeats, dim=0)  # [B, P, D]
        text, _ = self.decode(self.embed_tokens(input_ids, feedback), past_key_values=cache, use_cache=True)
        instr_mask = (input_ids == self.config.sep_token_id).long().cumsum(1) == 0  # [B, T] words before <sep>
        logits = self.copy_head(text, self.lm_head(text), text, input_ids, instr_mask)  # [B, T, V] log-probs
        index = loc_positions.unsqueeze(-1).expand(-1, -1, text.shape[-1])  # [B, L, D]
        loc_states = torch.gather(text, 1, index)  # [B, L, D]
        ptr_logits = self.pointer.scores(loc_states, image_states)  # [B, L, P]
        ptr_logits = ptr_logits + self.class_prior(image_states, loc_class)
        offsets = self.pointer.offsets_at(loc_states, image_states, offset_patches)  # [B, L, M, 2]
        patch_logits = self.patch_classifier(image_states[::repeats])  # [N, P, C]
        return {"logits": logits, "pointer_logits": ptr_logits, "offsets": offsets, "patch_logits": patch_logits}
