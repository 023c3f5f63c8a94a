"""One SpeechConfig -> one SpeechPipeline: shared by speech_node, `vlm-ros listen` and the evaluation,
so what is measured is what runs."""

from __future__ import annotations

from vlm_ros.speech.asr import make_recognizer
from vlm_ros.speech.config import SpeechConfig
from vlm_ros.speech.grammar import CommandGrammar
from vlm_ros.speech.pipeline import SpeechPipeline


def build_pipeline(config: SpeechConfig) -> SpeechPipeline:
    """Grammar (user file, or generated for the object vocabulary and wake phrase), recogniser, front end.

    Raises GrammarError/ModelLoadError/InputError with a sentence a person understands.
    """
    r, talk = config.recognizer, config.interaction
    grammar = CommandGrammar.build(r.grammar_path, r.object_vocabulary_file, talk.wake_phrase)
    return SpeechPipeline(make_recognizer(r, grammar, config.frontend), grammar, config.decision,
                          config.endpoint, config.frontend, talk.wake_phrase,
                          talk.confirm_timeout_s if talk.confirm else 0.0)
