"""The whisper backend without pretrained weights: clear errors for missing models, and the whole
load → transcribe → grammar gate path on a tiny random Whisper built here (its output is gibberish,
which must never become an instruction). Recognition quality needs real weights (model_path) and is
not tested here: none can be downloaded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.speech.asr import make_recognizer
from vlm_ros.speech.config import RecognizerConfig
from vlm_ros.speech.grammar import CommandGrammar
from vlm_ros.speech.pipeline import NOT_UNDERSTOOD, SpeechPipeline


@pytest.mark.parametrize(("path", "message"), [("", "needs model_path"), ("/no/such/whisper", "does not exist")])
def test_missing_model_is_a_clear_error(path, message):
    with pytest.raises(ModelLoadError, match=message):
        make_recognizer(RecognizerConfig(backend="whisper", model_path=path), CommandGrammar.load())


def test_directory_without_weights_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "preprocessor_config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="no weights"):
        make_recognizer(RecognizerConfig(backend="whisper", model_path=str(tmp_path)), CommandGrammar.load())


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory) -> str:
    """A 1-layer, d_model 16 Whisper with a byte-level tokenizer, saved with save_pretrained."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    out = tmp_path_factory.mktemp("tiny_whisper")
    special = ["<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>"]
    vocab = {c: i for i, c in enumerate(bytes_to_unicode().values())}
    vocab.update({s: len(vocab) + i for i, s in enumerate(special)})
    (out / "vocab.json").write_text(json.dumps(vocab))
    (out / "merges.txt").write_text("#version: 0.2\n")
    eot, sot = vocab["<|endoftext|>"], vocab["<|startoftranscript|>"]
    tokenizer = transformers.WhisperTokenizer(str(out / "vocab.json"), str(out / "merges.txt"), unk_token=special[0],
                                              bos_token=special[0], eos_token=special[0], pad_token=special[0],
                                              additional_special_tokens=special[1:])
    processor = transformers.WhisperProcessor(transformers.WhisperFeatureExtractor(feature_size=80), tokenizer)
    config = transformers.WhisperConfig(
        vocab_size=len(vocab), num_mel_bins=80, d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_source_positions=1500, max_target_positions=64, decoder_start_token_id=sot, eos_token_id=eot,
        pad_token_id=eot, bos_token_id=eot)
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(config)
    gen = model.generation_config
    gen.decoder_start_token_id, gen.eos_token_id, gen.pad_token_id = sot, eot, eot
    gen.no_timestamps_token_id = vocab["<|notimestamps|>"]
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return str(out)


def test_tiny_whisper_loads_transcribes_and_is_gated_by_the_grammar(tiny_whisper):
    grammar = CommandGrammar.load()
    recognizer = make_recognizer(RecognizerConfig(backend="whisper", model_path=tiny_whisper), grammar)
    recognizer.max_new_tokens = 6
    speechlike = (0.1 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)).astype(np.float32)
    transcript = recognizer.transcribe(speechlike)
    assert 0.0 <= transcript.confidence <= 1.0 and transcript.details["tokens"] >= 1
    rec = SpeechPipeline(recognizer, grammar).recognize(speechlike, 16000)
    assert rec.status == NOT_UNDERSTOOD and rec.instruction is None and rec.backend == "whisper"
