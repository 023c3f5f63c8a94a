"""Tiny random-weight checkpoints of each native VLM family, built offline for tests.

Each builder returns (model, processor) with a byte-level BPE tokenizer trained in-process (so
any text round-trips) and ~0.2 M parameters; `build(family, root)` saves both with
save_pretrained, so tests load them by path exactly as a user's download would be loaded.
Random weights answer garbage: tests check that garbage ends as ERROR/REFUSED, never a crash.
"""

from __future__ import annotations

from pathlib import Path

CHATML_IMAGE = {
    "qwen": "<|vision_start|><|image_pad|><|vision_end|>",
    "internvl": "<IMG_CONTEXT>\n",
}
LM = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
VIT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
CORPUS = ["put the red block in the green bowl", '{"bbox_2d": [12, 34, 56, 78], "label": "cup"}',
          '<points coords="1 1 308 305">cup</points>', "detect blue mug ; banana"]


def tokenizer(specials: list[str], extra: list[str] = (), **kwargs):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=list(specials), show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 4, trainer)
    if extra:
        tok.add_special_tokens(list(extra))
    return PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)


def chatml(image: str) -> str:
    return ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
            "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}" + image +
            "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def _processor(cls, **parts):
    """Build a processor, without its video part where torchvision is missing (as the loader does)."""
    from vlm_ros.models.hf_processor import image_only_class, torchvision_available

    if torchvision_available() or "video_processor" not in cls.get_attributes():
        return cls(**parts)
    return image_only_class(cls)(**parts)


def qwen(v3: bool):
    import transformers as T

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>"]
    tk = tokenizer(specials, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    ids = tk.convert_tokens_to_ids
    patch = 16 if v3 else 14
    rope = {"rope_type": "default", "rope_theta": 1e4, "mrope_section": [4, 2, 2] if v3 else [2, 3, 3]}
    if v3:
        rope["mrope_interleaved"] = True
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, patch_size=patch,
                  spatial_merge_size=2)
    vision.update(dict(num_position_embeddings=64, deepstack_visual_indexes=[1]) if v3 else
                  dict(window_size=56, fullatt_block_indexes=[1]))
    text = dict(LM, vocab_size=len(tk), max_position_embeddings=4096, rope_parameters=rope,
                bos_token_id=ids("<|endoftext|>"), eos_token_id=ids("<|im_end|>"), pad_token_id=ids("<|endoftext|>"))
    if v3:
        text["head_dim"] = 16
    config_cls, model_cls, proc_cls = ((T.Qwen3VLConfig, T.Qwen3VLForConditionalGeneration, T.Qwen3VLProcessor) if v3
                                       else (T.Qwen2_5_VLConfig, T.Qwen2_5_VLForConditionalGeneration,
                                             T.Qwen2_5_VLProcessor))
    config = config_cls(text_config=text, vision_config=vision, image_token_id=ids("<|image_pad|>"),
                        video_token_id=ids("<|video_pad|>"), vision_start_token_id=ids("<|vision_start|>"),
                        vision_end_token_id=ids("<|vision_end|>"))
    images = T.Qwen2VLImageProcessor(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112}, patch_size=patch,
                                     merge_size=2, temporal_patch_size=2)
    return model_cls(config), _processor(proc_cls, image_processor=images, tokenizer=tk,
                                         chat_template=chatml(CHATML_IMAGE["qwen"]))


def idefics3(smol: bool):
    import transformers as T

    specials = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>",
                "<global-img>"] + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    tk = tokenizer(specials, eos_token="<end_of_utterance>", pad_token="<|endoftext|>", bos_token="<|im_start|>")
    ids = tk.convert_tokens_to_ids
    config_cls, model_cls, proc_cls, image_cls = (
        (T.SmolVLMConfig, T.SmolVLMForConditionalGeneration, T.SmolVLMProcessor, T.SmolVLMImageProcessor) if smol else
        (T.Idefics3Config, T.Idefics3ForConditionalGeneration, T.Idefics3Processor, T.Idefics3ImageProcessor))
    config = config_cls(vision_config=dict(VIT, image_size=64, patch_size=16), scale_factor=2,
                        image_token_id=ids("<image>"),
                        text_config=dict(LM, model_type="llama", vocab_size=len(tk), max_position_embeddings=2048,
                                         bos_token_id=ids("<|im_start|>"), eos_token_id=ids("<end_of_utterance>"),
                                         pad_token_id=ids("<|endoftext|>")))
    chat = ("<|im_start|>{% for m in messages %}{{ m['role'] | capitalize }}:{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<image>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}"
            "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}")
    images = image_cls(size={"longest_edge": 64}, max_image_size={"longest_edge": 64}, do_image_splitting=False)
    return model_cls(config), _processor(proc_cls, image_processor=images, tokenizer=tk, image_seq_len=4,
                                         chat_template=chat)


def paligemma():
    import transformers as T

    tk = tokenizer(["<pad>", "<eos>", "<bos>", "<image>"], bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                   extra_special_tokens={"image_token": "<image>"})
    processor = T.PaliGemmaProcessor(image_processor=T.SiglipImageProcessor(size={"height": 64, "width": 64},
                                                                            image_seq_length=16), tokenizer=tk)
    vocab = len(tk)  # the processor added <locNNNN> and <segNNN>
    config = T.PaliGemmaConfig(
        vision_config=dict(VIT, model_type="siglip_vision_model", image_size=64, patch_size=16, projection_dim=64),
        text_config=dict(LM, model_type="gemma2", head_dim=16, vocab_size=vocab, max_position_embeddings=1024,
                         bos_token_id=tk.bos_token_id, eos_token_id=tk.eos_token_id, pad_token_id=tk.pad_token_id),
        image_token_index=tk.convert_tokens_to_ids("<image>"), vocab_size=vocab, projection_dim=64, hidden_size=64)
    return T.PaliGemmaForConditionalGeneration(config), processor


def gemma3():
    import transformers as T

    specials = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>",
                "<image_soft_token>"]
    tk = tokenizer(specials, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", extra_special_tokens={
        "image_token": "<image_soft_token>", "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>"})
    ids = tk.convert_tokens_to_ids
    chat = ("{{ bos_token }}{% for m in messages %}<start_of_turn>"
            "{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<start_of_image>{% elif c['type'] == 'text' %}"
            "{{ c['text'] }}{% endif %}{% endfor %}<end_of_turn>\n{% endfor %}"
            "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    config = T.Gemma3Config(
        vision_config=dict(VIT, model_type="siglip_vision_model", image_size=64, patch_size=16),
        text_config=dict(LM, vocab_size=len(tk), head_dim=16, query_pre_attn_scalar=16, sliding_window=64,
                         max_position_embeddings=1024, bos_token_id=ids("<bos>"), pad_token_id=ids("<pad>"),
                         eos_token_id=[ids("<eos>"), ids("<end_of_turn>")]),
        mm_tokens_per_image=4, boi_token_index=ids("<start_of_image>"), eoi_token_index=ids("<end_of_image>"),
        image_token_index=ids("<image_soft_token>"))
    images = T.Gemma3ImageProcessor(size={"height": 64, "width": 64}, do_pan_and_scan=False)
    return T.Gemma3ForConditionalGeneration(config), T.Gemma3Processor(image_processor=images, tokenizer=tk,
                                                                       chat_template=chat, image_seq_length=4)


def florence2():
    import transformers as T

    tk = tokenizer(["<s>", "<pad>", "</s>", "<unk>", "<image>"], extra=[f"<loc_{k}>" for k in range(1000)],
                   bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                   extra_special_tokens={"image_token": "<image>"})
    tasks = ("pure_text", "description_with_bboxes", "description_with_polygons", "polygons", "bboxes",
             "description_with_bboxes_or_polygons")
    post = {name: {} for name in tasks}
    post["phrase_grounding"] = {"banned_grounding_tokens": ["the image"]}
    post["ocr"] = {"pattern": r"(.+?)" + r"<loc_(\d+)>" * 8, "area_threshold": 0.0}
    images = T.CLIPImageProcessor(size={"height": 64, "width": 64}, do_center_crop=False, image_seq_length=5)
    processor = T.Florence2Processor(image_processor=images, tokenizer=tk, post_processor_config=post)
    config = T.Florence2Config(
        vision_config=dict(depths=[1, 1, 1, 1], embed_dim=[16, 32, 32, 64], num_heads=[1, 2, 2, 4],
                           num_groups=[1, 2, 2, 4], window_size=2, projection_dim=64, drop_path_rate=0.0,
                           max_position_embeddings=8),
        text_config=dict(model_type="bart", vocab_size=len(tk), d_model=64, encoder_layers=1, decoder_layers=1,
                         encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                         max_position_embeddings=256, bos_token_id=tk.bos_token_id, eos_token_id=tk.eos_token_id,
                         pad_token_id=tk.pad_token_id, decoder_start_token_id=tk.eos_token_id,
                         forced_bos_token_id=tk.bos_token_id),
        image_token_id=tk.image_token_id)
    return T.Florence2ForConditionalGeneration(config), processor


def internvl():
    import transformers as T

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<|video_pad|>"]
    tk = tokenizer(specials, eos_token="<|im_end|>", pad_token="<|endoftext|>", extra_special_tokens={
        "start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
        "video_token": "<|video_pad|>"})
    ids = tk.convert_tokens_to_ids
    config = T.InternVLConfig(
        vision_config=dict(VIT, image_size=[64, 64], patch_size=[16, 16]), image_seq_length=4, downsample_ratio=0.5,
        text_config=dict(LM, model_type="qwen2", vocab_size=len(tk), max_position_embeddings=1024,
                         bos_token_id=ids("<|endoftext|>"), eos_token_id=ids("<|im_end|>"),
                         pad_token_id=ids("<|endoftext|>")),
        image_token_id=ids("<IMG_CONTEXT>"))
    images = T.GotOcr2ImageProcessor(size={"height": 64, "width": 64}, crop_to_patches=False)
    return T.InternVLForConditionalGeneration(config), _processor(
        T.InternVLProcessor, image_processor=images, tokenizer=tk, image_seq_length=4,
        chat_template=chatml(CHATML_IMAGE["internvl"]))


BUILDERS = {"qwen2_5_vl": lambda: qwen(False), "qwen3_vl": lambda: qwen(True), "idefics3": lambda: idefics3(False),
            "smolvlm": lambda: idefics3(True), "paligemma": paligemma, "gemma3": gemma3, "florence2": florence2,
            "internvl": internvl}


def build(family: str, root: Path) -> Path:
    """Save a tiny `family` checkpoint under root/family (once; reused when present)."""
    import torch

    path = Path(root) / family
    if (path / "config.json").is_file():
        return path
    torch.manual_seed(0)
    model, processor = BUILDERS[family]()
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
