"""Which labels a plan may carry, and whether the user asked for one.

A grounder declares its `vocabulary`: a closed world (the tabletop model knows the colours x
block/bowl) or None (open-vocabulary families), whose labels must then come from the
instruction's own words. Refusals are worded from the instruction too, so the node never
says "I can't see a purple block" to someone who never mentioned one.
"""

from __future__ import annotations

import re

from vlm_ros.core.vocabulary import COLORS, LOCATION_SYNONYMS, OBJECT_KINDS, object_label

TABLETOP_VOCABULARY: frozenset[str] = frozenset(object_label(c, k) for c in COLORS for k in OBJECT_KINDS)
_SYNONYMS: dict[str, frozenset[str]] = {
    word: frozenset(words) for words in OBJECT_KINDS.values() for word in words
} | {"grey": frozenset({"grey", "gray"}), "gray": frozenset({"grey", "gray"})}
_WORD = re.compile(r"[^\W_]+")


def _forms(word: str) -> set[str]:
    """A word and its possible singulars: "boxes" → {boxes, boxe, box}, "cherries" → {..., cherry}."""
    forms = {word}
    if len(word) > 3 and word.endswith("s"):
        forms.add(word[:-1])
        if word.endswith("es"):
            forms.add(word[:-2])
        if word.endswith("ies"):
            forms.add(word[:-3] + "y")
    return forms


def _words(text: str) -> set[str]:
    """Every form of every lower-case word, so "blocks" matches "block"."""
    return {form for word in _WORD.findall(text.lower()) for form in _forms(word)}


def normalise(label: str) -> str:
    return " ".join(label.lower().split())


def is_location(label: str) -> bool:
    return normalise(label) in LOCATION_SYNONYMS


def mentioned(label: str, instruction: str) -> bool:
    """True when every word of `label` (or a synonym: cube for block) is in the instruction."""
    said = _words(instruction)
    wanted = _WORD.findall(label.lower())
    return bool(wanted) and all(said & {f for w in _SYNONYMS.get(word, {word}) for f in _forms(w)}
                                for word in wanted)


def label_problem(label: str, vocabulary: frozenset[str] | None, instruction: str) -> str | None:
    """None when a step may carry `label`, else why not (a phrase)."""
    if vocabulary is not None:
        if normalise(label) in vocabulary:
            return None
        return f"the label {label[:60]!r} is not an object this model knows"
    if mentioned(label, instruction):
        return None
    return f"the label {label[:60]!r} is not in the instruction"
