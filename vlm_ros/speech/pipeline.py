"""Audio stream → endpointed utterances → transcripts → decisions: instruction or "not understood".

Plain Python, shared by speech_node and `vlm-ros listen`. The decision is where spoken
input is made safe: only text the command grammar accepts, heard with enough confidence,
becomes an instruction; everything else is reported with a status and a reason.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from vlm_ros.speech.asr.base import Recognizer, Transcript
from vlm_ros.speech.audio import AudioChunk, dither, resample
from vlm_ros.speech.commands import normalize
from vlm_ros.speech.config import DecisionConfig, EndpointConfig, FrontEndConfig
from vlm_ros.speech.confirmation import (
    MAX_ANSWER_S,
    SHORT_REPLY_S,
    PendingCommand,
    answer_grammar,
    answer_kind,
    short_answer_grammar,
)
from vlm_ros.speech.endpoint import Endpointer, SpeechSegment
from vlm_ros.speech.frontend import FrontEnd
from vlm_ros.speech.grammar import CommandGrammar, stop_grammar

OK = "ok"
NOT_UNDERSTOOD = "not_understood"
LOW_CONFIDENCE = "low_confidence"
AWAITING_CONFIRMATION = "confirm"  # a command heard and asked about ("Did you say ...?"); not published yet
DECLINED = "declined"  # the answer was no
NOT_CONFIRMED = "not_confirmed"  # no yes within confirm_timeout_s
# An utterance shorter than this that is no command is decoded again against the stop words (and fillers)
# alone: "stop stop", the longest, takes up to 0.8 s with the endpointer's pre- and post-roll. Only stop:
# the same pass for "go home" and "open the gripper" found none of them that the first pass had missed
# and heard "open the window" as "open the gripper" (0.99), a command that moves; a stop heard where none
# was said stops the robot, nothing more.
STOP_PASS_S = 1.0
ASK_AGAIN = "ask_again"  # the reply was unclear: the question is asked once more ("was that a yes or a no?")


@dataclass
class Recognition:
    """One utterance's outcome; published as JSON on speech_status and printed by `listen --json`."""

    status: str  # ok | not_understood | low_confidence | confirm | ask_again | declined | not_confirmed
    text: str  # what was heard (normalised words); "" when nothing
    confidence: float  # 0..1
    program: str = ""  # canonical command, e.g. "pick(red block) ; place(green bowl)"; "" if not parsed
    reason: str = ""  # why it is not an instruction
    start_s: float = 0.0  # utterance start in stream time [s]
    end_s: float = 0.0  # utterance end in stream time [s]
    backend: str = ""
    latency_ms: float = 0.0  # recognition time of this utterance [ms]
    scores: dict = field(default_factory=dict)  # the backend's raw scores (for calibration and tuning)

    @property
    def instruction(self) -> str | None:
        """The text to publish as an instruction, or None when nothing may move."""
        return self.text if self.status == OK else None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["confidence"] = round(self.confidence, 3)
        out["latency_ms"] = round(self.latency_ms, 1)
        out["start_s"], out["end_s"] = round(self.start_s, 3), round(self.end_s, 3)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def nothing_heard(reason: str = "no speech detected", backend: str = "") -> Recognition:
    return Recognition(NOT_UNDERSTOOD, "", 0.0, reason=reason, backend=backend)


def decide(text: str, confidence: float, grammar: CommandGrammar, decision: DecisionConfig,
           wake_phrase: str = "", confirming: bool = False) -> tuple[str, str]:
    """(status, reason) for a transcript: the gate between hearing and moving (or, with `confirming`,
    between hearing and asking)."""
    if not text:
        return NOT_UNDERSTOOD, "nothing recognised"
    if decision.require_grammar and not grammar.accepts(text):
        return NOT_UNDERSTOOD, f"not a command the robot knows: {text!r}"
    if wake_phrase and not _starts_with(text, wake_phrase) and not is_stop(text):
        return NOT_UNDERSTOOD, f"no wake phrase {wake_phrase!r} before {text!r}"
    name = "confirm_min_confidence" if confirming and not is_stop(text) else "min_confidence"
    threshold = getattr(decision, name)
    if not confidence >= threshold:  # also catches NaN
        return LOW_CONFIDENCE, f"confidence {confidence:.2f} is below {name} {threshold:.2f}"
    return OK, ""


DANGLING = ("and", "then", "and then", "please")


def trim_dangling(text: str, grammar: CommandGrammar) -> str:
    """Drop a trailing "and"/"then" when the rest is a whole command.

    pocketsphinx returns its best partial path when no complete sentence fits; after a complete
    command that path often ends in the connector of a second command that never came.
    """
    if not text or grammar.accepts(text):
        return text
    for tail in sorted(DANGLING, key=len, reverse=True):
        if text.endswith(" " + tail) and grammar.accepts(text[: -len(tail) - 1]):
            return text[: -len(tail) - 1]
    return text


def is_stop(text: str) -> bool:
    """True for the stop command (with or without a wake phrase before it)."""
    return text.split()[-1:] in (["stop"], ["halt"])


def _starts_with(text: str, phrase: str) -> bool:
    words, lead = text.split(), phrase.split()
    return words[:len(lead)] == lead


def strip_wake(text: str, wake_phrase: str) -> str:
    if not wake_phrase or not _starts_with(text, wake_phrase):
        return text
    return " ".join(text.split()[len(wake_phrase.split()):])


class SpeechPipeline:
    """Feed audio chunks of any rate and size; get Recognitions as utterances end."""

    def __init__(self, recognizer: Recognizer, grammar: CommandGrammar,
                 decision: DecisionConfig | None = None, endpoint: EndpointConfig | None = None,
                 frontend: FrontEndConfig | None = None, wake_phrase: str = "", confirm_timeout_s: float = 0.0):
        """confirm_timeout_s > 0: the confirmation turn (confirmation.py): commands are asked about and
        published only after a yes heard within that many seconds of stream time."""
        self.recognizer = recognizer
        self.grammar = grammar
        self.confirm_timeout_s = confirm_timeout_s
        self.answer_grammar = answer_grammar(grammar) if confirm_timeout_s > 0 else None
        self.short_answer_grammar = short_answer_grammar() if confirm_timeout_s > 0 else None
        self.stop_grammar = stop_grammar(grammar)
        self.pending: PendingCommand | None = None
        self.decision = decision or DecisionConfig()
        self.endpoint_config = endpoint or EndpointConfig()
        self.frontend = FrontEnd(frontend or FrontEndConfig())
        self.wake_phrase = normalize(wake_phrase)
        self._endpointer: Endpointer | None = None
        self._stream_offset_s = 0.0  # stream time of the current endpointer's start (rate changes)
        self._utterances = 0

    def feed(self, chunk: AudioChunk) -> list[Recognition]:
        out: list[Recognition] = []
        if self._endpointer is not None and self._endpointer.sample_rate != chunk.sample_rate:
            out += self.flush()  # a source changed rate: finish what was said at the old one
        if self._endpointer is None:
            self._endpointer = Endpointer(self.endpoint_config, chunk.sample_rate)
        segments = self._endpointer.feed(chunk.samples)
        out += [self.recognize_segment(s) for s in segments]
        now_s = self._stream_offset_s + self._endpointer.seconds_seen
        if self.pending is not None and now_s > self.pending.deadline_s and not self._endpointer.in_speech:
            out.append(self.lapse())
        return out

    def flush(self) -> list[Recognition]:
        """End of stream: recognise an utterance still open; a question still unanswered lapses."""
        out: list[Recognition] = []
        if self._endpointer is not None:
            endpointer, self._endpointer = self._endpointer, None
            segments = endpointer.flush()
            self._stream_offset_s += endpointer.seconds_seen
            out = [self.recognize_segment(s) for s in segments]
        if self.pending is not None:
            out.append(self.lapse())
        return out

    def lapse(self) -> Recognition:
        """End the pending question unanswered (its time ran out): nothing is published."""
        pending, self.pending = self.pending, None
        assert pending is not None
        return Recognition(NOT_CONFIRMED, pending.text, pending.confidence, pending.program,
                           f"no yes within {self.confirm_timeout_s:g} s of the question; nothing was done",
                           pending.asked_at_s, pending.asked_at_s, self.recognizer.name)

    @property
    def confirming(self) -> bool:
        """The confirmation turn is on: commands are asked about, not published when heard."""
        return self.answer_grammar is not None

    @property
    def in_speech(self) -> bool:
        return self._endpointer is not None and self._endpointer.in_speech

    def recognize_segment(self, segment: SpeechSegment) -> Recognition:
        rec = self.recognize(segment.samples, segment.sample_rate, segment.noise)
        rec.start_s = self._stream_offset_s + segment.start_s
        rec.end_s = self._stream_offset_s + segment.end_s
        if segment.truncated and rec.status in (OK, AWAITING_CONFIRMATION):
            rec.reason = "utterance was cut at max_speech_s"
        if rec.status == AWAITING_CONFIRMATION:
            self.pending = PendingCommand(rec.text, rec.program, rec.confidence, rec.end_s,
                                          rec.end_s + self.confirm_timeout_s)
        elif rec.status == ASK_AGAIN and self.pending is not None:
            self.pending.deadline_s = rec.end_s + self.confirm_timeout_s
        return rec

    def recognize(self, samples: np.ndarray, sample_rate: int, noise: np.ndarray | None = None) -> Recognition:
        """One whole utterance (no endpointing) → Recognition; `noise`: non-speech audio heard before it."""
        t0 = time.perf_counter()
        rate = self.recognizer.sample_rate
        audio = resample(samples, sample_rate, rate)
        if noise is not None and noise.size:
            noise = resample(noise, sample_rate, rate)
        level = 10.0 ** (self.decision.dither_dbfs / 20.0) if self.decision.dither_dbfs > -120.0 else 0.0
        variants = [dither(v, level, seed=self._utterances) for v in self.frontend.variants(audio, rate, noise)]
        self._utterances += 1
        duration_s = samples.size / sample_rate
        asking = self.pending is not None
        hear = self._hear_reply if asking else self._hear_command
        transcript = max((hear(v, duration_s) for v in variants), key=self._hearing_rank)
        text, confidence = self._heard(transcript)
        latency_ms = (time.perf_counter() - t0) * 1000.0
        if asking and answer_kind(text) and duration_s < MAX_ANSWER_S:
            return self._answer(text, confidence, latency_ms, duration_s, dict(transcript.details))
        status, reason = decide(text, confidence, self.grammar, self.decision, self.wake_phrase,
                                confirming=self.confirming)
        if asking and status != OK and duration_s < MAX_ANSWER_S and self._may_ask_again():
            return self._ask_again(f"heard {text!r}" if text else "heard nothing clear", confidence,
                                   latency_ms, duration_s, dict(transcript.details))
        text = strip_wake(text, self.wake_phrase)
        command = self.grammar.parse(text) if text else None
        if status == OK and self.confirming and not is_stop(text):
            status, reason = AWAITING_CONFIRMATION, "asked to confirm; published after a yes"
        if status == OK and asking:  # stop, or a new command (asked about in place of the old one)
            self.pending = None
        return Recognition(status, text, confidence, command.program if command else "", reason,
                           0.0, duration_s, self.recognizer.name, latency_ms, dict(transcript.details))

    def _hearing_rank(self, transcript: Transcript) -> tuple[bool, float]:
        """Which of several hearings of one utterance (one per front-end variant) to keep: one that is a
        command, else any; then the more confident. A reply to a question is the other way round: any
        hearing that is not a confident yes (at min_confidence) wins over one, so a yes needs every
        variant to hear it. The yes is the gate, and each variant is one more chance to hear one in talk:
        preferring an answer let "just a second" in 10 dB noise through as "yes please" (0.53), the most
        confident hearing let "never" in reverb with wpe+none through as "yes" (1.00; the dry variant
        heard "yeah" at 0.004). A true yes that one variant misses is asked again."""
        text, confidence = self._heard(transcript)
        if self.pending is not None:
            return not (answer_kind(text) == "yes" and confidence >= self.decision.min_confidence), confidence
        return self.grammar.accepts(text), confidence

    def _heard(self, transcript: Transcript) -> tuple[str, float]:
        """(normalised words with a dangling connector trimmed, finite confidence) of a transcript."""
        confidence = float(transcript.confidence) if math.isfinite(transcript.confidence) else 0.0
        return trim_dangling(normalize(transcript.text), self.grammar), confidence

    def _hear_command(self, audio: np.ndarray, duration_s: float) -> Transcript:
        """An utterance, against the command grammar; a short one that is no command is decoded once more
        against the stop words and fillers alone (in reverb "stop" came out as the verb prefix "set")."""
        full = self.recognizer.transcribe(audio)
        if (duration_s >= STOP_PASS_S or self.stop_grammar is None
                or self.grammar.accepts(self._heard(full)[0])):
            return full
        stop = self.recognizer.transcribe(audio, self.stop_grammar)
        if not normalize(stop.text):
            return full
        return Transcript(stop.text, stop.confidence, {**stop.details, "pass": "stop", "first_pass": full.text})

    def _hear_reply(self, audio: np.ndarray, duration_s: float) -> Transcript:
        """The reply to a question: a command (it replaces the question), else, for a short utterance, the
        answer words, stop and the fillers alone (in noise a lone "yes" scored against every command prefix is heard
        as one), else whatever the reply grammar made of it (not an answer; talk is not forced onto yes)."""
        full = self.recognizer.transcribe(audio, self.answer_grammar)
        text = normalize(full.text)
        if duration_s >= SHORT_REPLY_S or (self.grammar.accepts(text) and not answer_kind(text)):
            return full
        short = self.recognizer.transcribe(audio, self.short_answer_grammar)
        if not normalize(short.text) or (answer_kind(text) and full.confidence >= short.confidence):
            return full
        return short

    def _may_ask_again(self) -> bool:
        return self.pending is not None and not self.pending.asked_again

    def _ask_again(self, heard: str, confidence: float, latency_ms: float, duration_s: float,
                   scores: dict) -> Recognition:
        """A short reply that was no clear yes or no: ask once more (a person would) instead of letting the
        question lapse; recognize_segment gives the second answer a full confirm_timeout_s."""
        pending = self.pending
        assert pending is not None
        pending.asked_again = True
        return Recognition(ASK_AGAIN, pending.text, confidence, pending.program,
                           f"{heard}; asked again for yes or no", 0.0, duration_s, self.recognizer.name,
                           latency_ms, scores)

    def _answer(self, word: str, confidence: float, latency_ms: float, duration_s: float,
                scores: dict) -> Recognition:
        """A yes/no to the pending question: yes publishes the pending command, no drops it; an
        unclear answer leaves the question open until its deadline."""
        pending = self.pending
        assert pending is not None
        heard = f"heard {word!r} ({confidence:.2f})"
        if not confidence >= self.decision.min_confidence:
            if self._may_ask_again():
                return self._ask_again(f"{heard}: below min_confidence", confidence, latency_ms, duration_s,
                                       scores)
            return Recognition(LOW_CONFIDENCE, word, confidence, "", f"{heard}: below min_confidence; still "
                               f"waiting for yes or no", 0.0, duration_s, self.recognizer.name, latency_ms, scores)
        self.pending = None
        status = OK if answer_kind(word) == "yes" else DECLINED
        reason = f"confirmed: {heard}" if status == OK else f"declined: {heard}; nothing was done"
        return Recognition(status, pending.text, pending.confidence, pending.program, reason, 0.0, duration_s,
                           self.recognizer.name, latency_ms, scores)
