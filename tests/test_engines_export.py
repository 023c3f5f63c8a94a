"""ONNX export of a tiny random model: manifest, graph signatures, decoder parity with the torch
model (prefill with an empty past, single-token decode, chunked prefill), export on demand."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.engines.export import default_onnx_dir, ensure_onnx, export_model
from vlm_ros.engines.graphs import empty_past, kv_names
from vlm_ros.engines.manifest import GRAPHS, Manifest
from vlm_ros.engines.random_model import save_random_model
from vlm_ros.models.loading import load_pretrained


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model_dir = save_random_model(tmp_path_factory.mktemp("model"), "tiny", seed=1)
    model = load_pretrained(model_dir)[0]
    out = tmp_path_factory.mktemp("onnx") / "tiny"
    manifest = export_model(model, out, "tiny", "hash", progress=False)
    return model, out, manifest


def _session(out, name):
    return ort.InferenceSession(str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"])


def test_manifest_names_every_graph_input_and_output(exported):
    _, out, manifest = exported
    assert set(manifest.graphs) == set(GRAPHS)
    loaded = Manifest.load(out)
    assert loaded == manifest
    d = loaded.dims
    assert (d.num_patches, d.hidden_size, d.num_layers) == (16, 32, 2)
    for name, spec in loaded.graphs.items():
        graph = onnx.load(str(out / spec.file)).graph
        assert [i.name for i in graph.input] == [t.name for t in spec.inputs], name
        assert [o.name for o in graph.output] == [t.name for t in spec.outputs], name
    decoder = {t.name: t for t in loaded.graphs["decoder"].inputs + loaded.graphs["decoder"].outputs}
    assert [t.name for t in loaded.graphs["decoder"].inputs] == ["inputs_embeds", *kv_names(2, "past")]
    assert decoder["past_value_1"].shape == [1, 2, "past", 16]
    assert decoder["present_key_0"].shape == [1, 2, "total", 16]
    assert loaded.graphs["token_scores"].outputs[0].dtype == "float32"
    assert "present_key_i" in json.loads((out / "manifest.json").read_text())["kv_layout"]


def _decoder_run(session, embeds, past):
    """-> hidden, logits, presents (list)."""
    feeds = {"inputs_embeds": embeds} | dict(zip(kv_names(2, "past"), past))
    hidden, *presents = session.run(None, feeds)
    return hidden, presents


def test_decoder_graph_serves_prefill_and_decode_like_the_model(exported):
    model, out, _ = exported
    decoder = _session(out, "decoder")
    empty = [t.numpy() for t in empty_past(model)]
    x = torch.randn(1, 21, 32)
    y = torch.randn(1, 1, 32)
    with torch.no_grad():
        ref_prefill, cache = model.decode(x, use_cache=True)
        ref_step, _ = model.decode(y, cache, use_cache=True)
    hidden, kv = _decoder_run(decoder, x.numpy(), empty)
    np.testing.assert_allclose(hidden, ref_prefill.numpy(), atol=1e-5)
    assert [p.shape for p in kv] == [(1, 2, 21, 16)] * 4
    step, new = _decoder_run(decoder, y.numpy(), kv)
    np.testing.assert_allclose(step, ref_step.numpy(), atol=1e-5)
    assert [p.shape for p in new] == [(1, 2, 22, 16)] * 4
    for before, after in zip(kv, new):  # the present starts with the past, unchanged
        np.testing.assert_array_equal(after[:, :, :21], before)
    # the same sequence in two chunks gives the same states as in one
    first, kv_a = _decoder_run(decoder, x[:, :9].numpy(), empty)
    second, kv_b = _decoder_run(decoder, x[:, 9:].numpy(), kv_a)
    np.testing.assert_allclose(np.concatenate([first, second], 1), ref_prefill.numpy(), atol=1e-5)
    for whole, chunked in zip(kv, kv_b):
        np.testing.assert_allclose(chunked, whole, atol=1e-5)


def test_token_scores_are_the_copy_head_over_the_lm_head(exported):
    model, out, _ = exported
    state, instr = torch.randn(1, 1, 32), torch.randn(1, 5, 32)
    ids = torch.tensor([[9, 10, 9, 11, 12]])  # a repeated word: its copy mass adds up
    mask = torch.tensor([[True, True, True, True, False]])
    with torch.no_grad():
        want = model.copy_head(state, model.lm_head(state), instr, ids, mask)[0].numpy()
    words_only = instr.clone()
    words_only[:, 4] = 0.0  # the runtimes give copy_keys the instruction words only; a masked tail reads as zero
    (keys,) = _session(out, "copy_keys").run(None, {"instr_states": words_only.numpy()})
    feeds = {"state": state.numpy(), "copy_keys": keys, "instr_ids": ids.numpy(), "instr_mask": mask.float().numpy()}
    (got,) = _session(out, "token_scores").run(None, feeds)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_vision_embed_and_pointer_graphs_match_the_model(exported):
    model, out, _ = exported
    pixels = torch.randn(2, 3, 32, 32)
    ids = torch.tensor([[2, 9, 10, 3], [2, 11, 12, 3]])
    feedback = torch.tensor([[-1, 4, -1, -1], [-1, -1, -1, 15]])
    loc, image = torch.randn(2, 3, 32), torch.randn(2, 16, 32)
    patches = torch.tensor([[[0, 1, 4, 5]] * 3, [[10, 11, 14, 15]] * 3])  # [B, L, M]
    with torch.no_grad():
        want_image = model.encode_image(pixels).numpy()
        want_embeds = model.embed_tokens(ids, feedback).numpy()
        want_logits = model.pointer.scores(loc, image).numpy()
        want_offsets = model.pointer.offsets_at(loc, image, patches).numpy()
        want_class = torch.log_softmax(model.patch_classifier(image), dim=-1).numpy()  # [B, P, C]
        want_prior = model.class_prior(image, torch.tensor([[3, -1, 0], [1, 2, -1]])).numpy()  # [B, L, P]
    (got_image,) = _session(out, "vision").run(None, {"pixel_values": pixels.numpy()})
    (got_embeds,) = _session(out, "embed").run(None, {"input_ids": ids.numpy(), "feedback": feedback.numpy()})
    keys, offset_keys, got_class = _session(out, "pointer_keys").run(None, {"image_states": image.numpy()})
    (got_logits,) = _session(out, "pointer_scores").run(None, {"loc_states": loc.numpy(), "keys": keys})
    (got_offsets,) = _session(out, "pointer_offsets").run(
        None, {"loc_states": loc.numpy(), "offset_keys": offset_keys, "patches": patches.numpy()})
    np.testing.assert_allclose(got_image, want_image, atol=1e-5)
    np.testing.assert_allclose(got_embeds, want_embeds, atol=1e-6)
    np.testing.assert_allclose(got_logits, want_logits, atol=1e-5)
    np.testing.assert_allclose(got_offsets, want_offsets, atol=1e-5)
    np.testing.assert_allclose(got_class, want_class, atol=1e-5)  # the pointer prior's columns
    np.testing.assert_allclose(got_class[0][:, 3], want_prior[0, 0], atol=1e-5)
    np.testing.assert_allclose(got_class[1][:, 2], want_prior[1, 1], atol=1e-5)
    assert not want_prior[0, 1].any()  # no prior for a label that is not an object


def test_ensure_onnx_exports_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLM_ROS_ENGINE_CACHE", str(tmp_path / "cache"))
    model_dir = save_random_model(tmp_path / "tabletop-test", "tiny", seed=2)
    first = ensure_onnx(model_dir)
    assert first == default_onnx_dir(model_dir)
    assert first.parent == tmp_path / "cache" / "onnx" and first.name.startswith("tabletop-test-")
    stamp = (first / "decoder.onnx").stat().st_mtime_ns
    assert ensure_onnx(model_dir) == first
    assert (first / "decoder.onnx").stat().st_mtime_ns == stamp  # reused, not re-exported
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no temporary directory left
    # new weights, new directory
    save_random_model(model_dir, "tiny", seed=3)
    assert default_onnx_dir(model_dir) != first


def test_manifest_load_names_what_is_missing(exported, tmp_path):
    _, out, _ = exported
    with pytest.raises(ModelLoadError, match="vlm-ros export"):
        Manifest.load(tmp_path)
    (tmp_path / "manifest.json").write_text((out / "manifest.json").read_text())
    with pytest.raises(ModelLoadError, match=r"decoder\.onnx"):
        Manifest.load(tmp_path)
