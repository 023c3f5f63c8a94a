"""ASR backends behind one interface (base.Recognizer); `make_recognizer` picks one by name.

Backends import their heavy dependencies (pocketsphinx, torch/transformers) only when made.
"""

from __future__ import annotations

from vlm_ros.speech.asr.base import Recognizer, Transcript
from vlm_ros.speech.config import FrontEndConfig, RecognizerConfig
from vlm_ros.speech.grammar import CommandGrammar

BACKENDS = ("pocketsphinx", "whisper")

__all__ = ["BACKENDS", "Recognizer", "Transcript", "make_recognizer"]


def make_recognizer(config: RecognizerConfig, grammar: CommandGrammar,
                    frontend: FrontEndConfig | None = None) -> Recognizer:
    """The configured backend, loaded. Raises ModelLoadError/GrammarError with the reason."""
    if config.backend == "pocketsphinx":
        from vlm_ros.speech.asr.pocketsphinx_asr import PocketsphinxRecognizer

        remove_noise = frontend is not None and "pocketsphinx" in frontend.noise_suppression.split("+")
        return PocketsphinxRecognizer(grammar, config.model_path, config.dict_path, remove_noise)
    if config.backend == "whisper":
        from vlm_ros.speech.asr.whisper_asr import WhisperRecognizer

        return WhisperRecognizer(config.model_path, grammar, config.language, config.device)
    raise ValueError(f"ASR backend {config.backend!r} is unknown (use one of {', '.join(BACKENDS)})")
