"""Whisper through `transformers`, from a local model directory (nothing is downloaded).

Whisper transcribes free text, so it is not constrained while decoding; the pipeline checks
its output against the command grammar afterwards (require_grammar). Confidence is the
geometric mean of the generated tokens' probabilities.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.speech.asr.base import Transcript
from vlm_ros.speech.grammar import CommandGrammar

# Spellings Whisper prefers that the grammar spells differently.
SPELLINGS = {"grey": "gray", "okay": "ok"}


def check_model_dir(model_path: str) -> Path:
    """The model directory, or ModelLoadError naming what is missing."""
    if not model_path:
        raise ModelLoadError("the whisper backend needs model_path: a local Whisper model directory in "
                             "save_pretrained form (config.json, weights, tokenizer, preprocessor_config.json); "
                             "models are never downloaded at run time")
    path = Path(model_path).expanduser()
    if not path.is_dir():
        raise ModelLoadError(f"Whisper model directory {str(path)!r} does not exist (model_path)")
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"Whisper model directory {str(path)!r} has no config.json; save the model there "
                             f"with save_pretrained")
    if not any((path / name).is_file() for name in ("preprocessor_config.json", "processor_config.json")):
        raise ModelLoadError(f"Whisper model directory {str(path)!r} has no preprocessor_config.json or "
                             f"processor_config.json; save the WhisperProcessor there with save_pretrained")
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ModelLoadError(f"Whisper model directory {str(path)!r} has no weights (*.safetensors)")
    return path


class WhisperRecognizer:
    """transformers' WhisperForConditionalGeneration + WhisperProcessor, greedy decoding."""

    name = "whisper"
    sample_rate = 16000

    def __init__(self, model_path: str, grammar: CommandGrammar | None = None, language: str = "en",
                 device: str = "cpu", max_new_tokens: int = 48):
        path = check_model_dir(model_path)
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        try:
            self.processor = WhisperProcessor.from_pretrained(str(path), local_files_only=True)
            self.model = WhisperForConditionalGeneration.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load Whisper from {str(path)!r}: {exc}") from None
        self.model.to(device).eval()
        self.device = device
        self.torch = torch
        self.grammar = grammar
        self.max_new_tokens = max_new_tokens
        gen = self.model.generation_config
        # Multilingual checkpoints take language/task; English-only and tiny test models do not.
        self.generate_kwargs: dict = {}
        if getattr(gen, "lang_to_id", None) and language:
            self.generate_kwargs.update(language=language, task="transcribe")

    def transcribe(self, samples: np.ndarray, grammar: CommandGrammar | None = None) -> Transcript:
        """Free text whatever `grammar` is: the pipeline checks what was heard against it."""
        torch = self.torch
        features = self.processor(samples, sampling_rate=self.sample_rate, return_tensors="pt").input_features
        with torch.inference_mode():
            out = self.model.generate(features.to(self.device), max_new_tokens=self.max_new_tokens,
                                      return_dict_in_generate=True, output_scores=True, **self.generate_kwargs)
            scores = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        text = self.processor.batch_decode(out.sequences, skip_special_tokens=True)[0]
        logprobs = [float(x) for x in scores[0] if math.isfinite(float(x))]
        confidence = math.exp(sum(logprobs) / len(logprobs)) if logprobs else 0.0
        words = [SPELLINGS.get(w, w) for w in text.lower().replace("-", " ").split()]
        return Transcript(" ".join(words), confidence, {"raw_text": text, "tokens": len(logprobs)})
