"""The confirmation turn: "Did you say: put the red block in the green bowl?" → "yes" → published.

A grammar-constrained recogniser forces speech that is close to a command ("the red block is in
the green bowl") onto the command; no confidence separates all of those. Asking back does: the
command is published only when the next utterance, within `confirm_timeout_s`, is heard as a yes.

The reply is decoded with its own grammar: yes / no words, stop, and the whole command grammar.
With the commands in it, a new command supersedes the pending one (and is asked about in turn)
instead of being forced onto "yes"; with stop in it, "stop" works during the question too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vlm_ros.speech.commands import FILLERS, STOP_WORDS
from vlm_ros.speech.grammar import CommandGrammar, phrase_grammar

YES = ("yes", "yeah", "yes please", "correct", "do it")
NO = ("no", "nope", "no thanks", "cancel", "wrong")
ANSWER_RULE = "reply"
# A reply shorter than this (the utterance, with the endpointer's pre- and post-roll) that is neither an
# answer nor a command under the reply grammar is decoded again against the answer words, stop and fillers
# alone: in 10 dB noise a lone "yes" scored against every command prefix is often heard as "grab" or
# "move it". Longer speech is never forced onto an answer: there the commands in the reply grammar
# are what keeps talk from becoming a yes.
SHORT_REPLY_S = 0.9
# An answer takes longer than this only when it is not one: "pass me the screwdriver" (1.9 s) was heard
# as "yes please"; every yes of the 12-voice evaluation took at most 0.84 s.
MAX_ANSWER_S = 1.4


def answer_kind(text: str) -> str:
    """'yes', 'no', or '' (not an answer) for a normalised transcript."""
    if text in YES:
        return "yes"
    if text in NO:
        return "no"
    return ""


def answer_grammar(commands: CommandGrammar) -> CommandGrammar:
    """The reply grammar: yes | no | <the command grammar's entry rule>, as one JSGF document.

    The reply rule is the document's only public rule: pocketsphinx takes *a* public rule as the
    entry point (the first its hash table yields, not the first in the file), so the command
    grammar's own rules are made private in this copy.
    """
    entry = commands.public_rule
    words = " | ".join(YES + NO + FILLERS)
    jsgf = re.sub(r"^(\s*)public\s+<", r"\1<", commands.jsgf, flags=re.M)
    head = re.search(r"^\s*grammar\s+[\w.]+\s*;[^\n]*\n", jsgf, flags=re.M)
    if head is None:  # public_rule above would have raised for a grammar without a header
        raise ValueError("command grammar has no `grammar NAME;` line")
    rule = f"public <{ANSWER_RULE}> = {words} | <{entry}>;\n"
    return CommandGrammar(jsgf[:head.end()] + rule + jsgf[head.end():], f"{commands.origin} + yes/no",
                          commands.rule)


def short_answer_grammar() -> CommandGrammar:
    """yes | no | stop words | fillers: the grammar for a reply shorter than SHORT_REPLY_S."""
    return phrase_grammar(YES + NO + STOP_WORDS + FILLERS, ANSWER_RULE)


@dataclass
class PendingCommand:
    """A command heard and asked about, waiting for its answer."""

    text: str  # the command as it will be published
    program: str
    confidence: float
    asked_at_s: float  # stream time the question was asked (end of the command utterance) [s]
    deadline_s: float  # stream time after which it lapses [s]
    asked_again: bool = False  # an unclear reply was answered with "was that a yes or a no?" (once only)
