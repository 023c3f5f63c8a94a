"""Model-side checks on a tiny config: shared-prefix training forward, pointer, cached decoding, save/load."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.grounding.program import parse_program
from vlm_ros.models import load_grounder
from vlm_ros.models.config import TabletopVlmConfig, tiny_config
from vlm_ros.models.decoding import greedy_decode
from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.models.tabletop_vlm import TabletopVlm
from vlm_ros.models.tokenizer import SEP, build_tokenizer
from vlm_ros.models.torch_grounder import TorchGrounder, program_text


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    tok = build_tokenizer(["put the red block in the green bowl", "pick place refuse"])
    model = TabletopVlm(tiny_config(len(tok))).eval()
    return model, tok


def test_shared_prefix_forward_matches_concatenated_sequence(tiny):
    model, _ = tiny
    n, k, t = 2, 3, 6
    pixels = torch.randn(n, 3, 32, 32)
    ids = torch.randint(7, model.config.text_config.vocab_size, (n * k, t))
    feedback = torch.full((n * k, t), -1)
    feedback[:, 3] = 5
    locs = torch.tensor([[2, 4]] * (n * k))
    patches = torch.randint(0, 16, (n * k, 2, 9))
    with torch.no_grad():
        classes = torch.tensor([[1, -1]] * (n * k))
        out = model.forward_train(pixels, ids, feedback, locs, patches, classes, repeats=k)
        image = model.encode_image(pixels).repeat_interleave(k, 0)  # [B, P, D]
        hidden, _ = model.decode(torch.cat([image, model.embed_tokens(ids, feedback)], 1))
    text = hidden[:, image.shape[1]:]
    instr = (ids == model.config.sep_token_id).long().cumsum(1) == 0
    logp = model.copy_head(text, model.lm_head(text), text, ids, instr)
    torch.testing.assert_close(out["logits"], logp, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out["logits"].exp().sum(-1), torch.ones(n * k, t), atol=1e-4, rtol=0)
    logits, offsets = model.pointer(text[:, [2, 4]], hidden[:, : image.shape[1]])
    prior = torch.log_softmax(model.patch_classifier(hidden[:, : image.shape[1]]), -1)[..., 1]  # [B, P]
    torch.testing.assert_close(out["pointer_logits"][:, 0], logits[:, 0] + prior, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out["pointer_logits"][:, 1], logits[:, 1], atol=1e-5, rtol=1e-4)
    picked = torch.gather(offsets, 2, patches[..., None].expand(-1, -1, -1, 2))
    torch.testing.assert_close(out["offsets"], picked, atol=1e-5, rtol=1e-4)


def test_cached_and_uncached_greedy_decoding_agree(tiny):
    model, tok = tiny
    model.config.max_program_tokens = 12
    pixels = torch.randn(1, 3, 32, 32)
    prompt = [*tok.convert_tokens_to_ids(["put", "the", "red", "block", "in", "the", "green", "bowl"]), SEP]
    # make <loc> likely so the pointer and feedback paths run
    with torch.no_grad():
        model.lm_head.weight[model.config.loc_token_id] += 0.5
        model.copy_head.gate.bias.fill_(3.0)
    a = greedy_decode(model, pixels, prompt, use_cache=True)
    b = greedy_decode(model, pixels, prompt, use_cache=False)
    assert a.token_ids == b.token_ids
    assert len(a.points) == a.token_ids.count(model.config.loc_token_id) > 0
    np.testing.assert_allclose(np.array(a.points), np.array(b.points), atol=1e-3)


def test_program_text_round_trips_through_the_parser():
    words = ["pick", "red", "block", "<loc>", "place", "top", "left", "corner", "<loc>"]
    program = parse_program(program_text(words, [(10.0, 20.5), (300.25, 40.0)]))
    assert [(s.type.value, s.target_label, s.pixel) for s in program.steps] == [
        ("pick", "red block", (10.0, 20.5)), ("place", "top left corner", (300.2, 40.0))]
    assert parse_program(program_text(["refuse", "purple", "bowl"], [])).refused_label == "purple bowl"


def test_processor_maps_points_exactly_between_frame_sizes():
    proc = ImageProcessor()
    for u, v in [(100.0, 200.0), (320.5, 240.25), (600.0, 400.0)]:
        x, y = proc.frame_to_model(u, v, 640, 480)
        assert proc.model_to_frame(x, y, 640, 480) == pytest.approx((u, v))
        # the same scene point in a half-size frame maps to the same model coordinates
        assert proc.frame_to_model((u + 0.5) / 2 - 0.5, (v + 0.5) / 2 - 0.5, 320, 240) == pytest.approx((x, y))
    assert proc.resize(np.zeros((480, 640, 3), np.uint8)).shape == (128, 128, 3)


def test_save_load_and_ground(tiny, tmp_path):
    model, tok = tiny
    model.config.max_program_tokens = 8
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    ImageProcessor(ImageProcessorConfig(image_size=32)).save_pretrained(tmp_path)
    grounder = load_grounder(tmp_path)
    assert isinstance(grounder, TorchGrounder)
    assert isinstance(grounder.model.config, TabletopVlmConfig)
    for name, p in model.state_dict().items():
        torch.testing.assert_close(grounder.model.state_dict()[name], p)
    rgb = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    grounder.bf16_prefill, grounder.presence_threshold = False, 0.0
    a = grounder.decode(rgb, "put the red block in the green bowl")
    vocab = tok.convert_ids_to_tokens(list(range(len(tok))))
    prompt = [*tok.convert_tokens_to_ids(["put", "the", "red", "block", "in", "the", "green", "bowl"]), SEP]
    pick = tok.convert_tokens_to_ids("pick")
    b = greedy_decode(model, grounder.processor(rgb), prompt, words=vocab, pick_token_id=pick)
    assert a.token_ids == b.token_ids


def test_loading_errors_name_the_path(tiny, tmp_path):
    with pytest.raises(ModelLoadError, match=re.escape(str(tmp_path / "nowhere"))):
        load_grounder(tmp_path / "nowhere")
    model, tok = tiny
    model.save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match=r"tokenizer\.json"):
        load_grounder(tmp_path)
    tok.save_pretrained(tmp_path)
    ImageProcessor().save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_grounder(tmp_path)
    with pytest.raises(ModelLoadError, match="onnx"):
        load_grounder(tmp_path, backend="onnx")
