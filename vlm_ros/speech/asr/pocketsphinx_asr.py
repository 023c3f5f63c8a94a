"""pocketsphinx, constrained to the command grammar: offline, CPU-light, ships an English model.

With its general language model pocketsphinx hears espeak's "put the red block in the green
bowl" as "the real world"; constrained to a JSGF grammar of the commands it gets it right.
A grammar makes every sound look like a command, so two checks keep other speech out:
pocketsphinx reports a partial path when no complete command fits (the grammar check in
the pipeline rejects it), and a confidence from the acoustic score of the recognised words
per frame, which pocketsphinx normalises by the best-scoring senone of each frame (0 = as
good as any sound could fit; speech forced onto a command it does not match scores lower).
A garbage loop of common words beside the commands was tried: at equal weight it made
decoding ~20x slower and stole real commands, so it is not used.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.speech.asr.base import Transcript
from vlm_ros.speech.audio import encode_s16le
from vlm_ros.speech.grammar import CommandGrammar, GrammarError

SEARCH = "commands"
# Confidence = logistic(A * acoustic log-likelihood per word frame + B * that of the worst word + C).
# Logistic regression on espeak-ng speech (36 commands and 28 out-of-grammar sentences, 6 voices,
# 2 speeds): at 0.5 it keeps ~97 % of correctly heard commands and rejects about three quarters of
# the out-of-grammar sentences the grammar let through. Tune the threshold with min_confidence.
CONFIDENCE_WEIGHTS = (2.55, 0.73, 13.4)  # (A [frame/nat], B [frame/nat], C)
CMN = "live"  # cepstral mean normalisation


def confidence_from_scores(per_frame: float, worst_word: float) -> float:
    a, b, c = CONFIDENCE_WEIGHTS
    z = a * per_frame + b * worst_word + c
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def _is_filler(word: str) -> bool:
    return word.startswith(("<", "[", "+"))


class PocketsphinxRecognizer:
    """Grammar-constrained pocketsphinx decoder (one utterance at a time, not thread-safe)."""

    name = "pocketsphinx"
    sample_rate = 16000

    def __init__(self, grammar: CommandGrammar, model_path: str = "", dict_path: str = "",
                 remove_noise: bool = False, cmn: str = CMN):
        import pocketsphinx

        # remove_noise: pocketsphinx's own spectral noise subtraction (noise_suppression: pocketsphinx)
        config = pocketsphinx.Config(loglevel="FATAL", lm=None, remove_noise=remove_noise, cmn=cmn)
        if model_path:
            if not Path(model_path, "mdef").is_file():
                raise ModelLoadError(f"pocketsphinx acoustic model directory {model_path!r} has no mdef file "
                                     f"(model_path); leave it empty for the shipped en-us model")
            config["hmm"] = model_path
        if dict_path:
            if not Path(dict_path).is_file():
                raise ModelLoadError(f"pronunciation dictionary {dict_path!r} does not exist (dict_path)")
            config["dict"] = dict_path
        config["samprate"] = self.sample_rate
        self.decoder = pocketsphinx.Decoder(config)
        self.grammar = grammar
        self._searches: dict[str, str] = {}  # grammar text -> pocketsphinx search name
        self.decoder.activate_search(self._search_for(grammar))

    def _search_for(self, grammar: CommandGrammar) -> str:
        """The search decoding `grammar`, added on first use (pocketsphinx keeps each compiled)."""
        name = self._searches.get(grammar.jsgf)
        if name is not None:
            return name
        missing = sorted(w for w in grammar.words() if self.decoder.lookup_word(w) is None)
        if missing:
            raise GrammarError(f"grammar {grammar.origin} uses words the pronunciation dictionary lacks: "
                               f"{', '.join(missing)}; add them to a dictionary file (dict_path)")
        name = SEARCH if not self._searches else f"{SEARCH}_{len(self._searches)}"
        try:
            self.decoder.add_jsgf_string(name, grammar.jsgf)
        except RuntimeError as exc:
            raise GrammarError(f"pocketsphinx rejected grammar {grammar.origin}: {exc}") from None
        self._searches[grammar.jsgf] = name
        return name

    def transcribe(self, samples: np.ndarray, grammar: CommandGrammar | None = None) -> Transcript:
        d = self.decoder
        search = self._search_for(grammar or self.grammar)
        if d.current_search() != search:
            d.activate_search(search)
        d.start_utt()
        d.process_raw(encode_s16le(samples), full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        text = " ".join(hyp.hypstr.split()) if hyp is not None else ""
        score, frames, worst = 0.0, 0, 0.0
        for seg in d.seg() or ():
            if _is_filler(seg.word):
                continue
            n = seg.end_frame - seg.start_frame + 1
            word_score = math.log(max(seg.ascore, 1e-300))  # ascore is exp(log-likelihood); clamp underflow
            score, frames = score + word_score, frames + n
            worst = min(worst, word_score / n)
        per_frame = score / frames if frames else -math.inf
        confidence = confidence_from_scores(per_frame, worst) if text and frames else 0.0
        return Transcript(text, confidence, {"acoustic_per_frame": round(per_frame, 3),
                                             "worst_word_per_frame": round(worst, 3), "frames": d.n_frames()})
