"""The one interface every ASR backend implements: 16 kHz mono samples in, a transcript out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vlm_ros.speech.grammar import CommandGrammar


@dataclass
class Transcript:
    """What a backend heard in one utterance."""

    text: str  # normalised words (lower case, no punctuation); "" when nothing was recognised
    confidence: float  # 0..1, the backend's own calibration; compared with min_confidence
    details: dict[str, Any] = field(default_factory=dict)  # backend-specific scores, for tuning


class Recognizer(Protocol):
    """An ASR backend. Loading happens in the constructor; a missing model raises ModelLoadError."""

    name: str
    sample_rate: int  # [Hz] the rate `transcribe` expects

    def transcribe(self, samples: np.ndarray, grammar: CommandGrammar | None = None) -> Transcript:
        """samples: [N] float32 mono in [-1, 1] at `sample_rate`, one whole utterance.

        grammar: decode against this grammar instead of the one the backend was made with (the
        confirmation turn's yes/no reply); a free-text backend may ignore it (the pipeline checks)."""
        ...
