"""Open-vocabulary instruction parser: English command → primitive skeleton with free-text phrases.

    "put the banana in the blue mug"      → pick(banana) ; place(blue mug)
    "push the cup to the left"            → push(cup, left)
    "move the apple to the top left corner" → pick(apple) ; place(top left corner)   (a named location)

Pure Python and model-free: the verbs and prepositions are a closed set, the object phrases are
whatever the user said, and a VLM is then asked to point at each phrase. Anything else raises
GroundingRefusal with a sentence naming the words that were not understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vlm_ros.core.errors import GroundingRefusal
from vlm_ros.core.types import PrimitiveType
from vlm_ros.core.vocabulary import DIRECTIONS, LOCATION_SYNONYMS

_POLITE = re.compile(r"^(?:please |can you |could you |would you |now |then )+|(?: please| now)+$")
_ARTICLES = re.compile(r"^(?:the|a|an|that|this|those|these|my|your|our)\s+")
_PRONOUNS = frozenset({"it", "them", "that", "this", "one", "that one", "this one"})
_EVERY = re.compile(r"^(?:all(?: of)?(?: the)?|every|each(?: of the)?)\s+")
_SPLIT = re.compile(r"\s*(?:,\s*and then|,\s*then|\band then\b|\bthen\b|\band\b|,)\s*")
_DIRECTION = "|".join(sorted((re.escape(d) for d in DIRECTIONS), key=len, reverse=True))

_HOME = re.compile(r"^(?:go|return|move|head|come)?\s*(?:back\s*)?(?:to\s*)?(?:the\s*)?(?:your\s*)?home"
                   r"(?:\s*position)?$")
_OPEN = re.compile(r"^(?:open|release)(?:\s+(?:the|your))?(?:\s+(?:gripper|hand|claw|fingers))?$")
_CLOSE = re.compile(r"^(?:close|shut|grip)(?:\s+(?:the|your))?(?:\s+(?:gripper|hand|claw|fingers))?$")
_PICK = re.compile(r"^(?:pick up|pick|grab|grasp|take|lift|get)\s+(?P<obj>.+?)(?:\s+up)?$")
_PUT = re.compile(r"^(?:put|place|move|drop|stack|set|bring|carry|transfer|lay|pick up|pick|take)\s+(?P<obj>.+?)\s+"
                  r"(?P<prep>on top of|into|inside of|inside|onto|in|on|at|to|over|next to|near|above|beside)"
                  r"\s+(?P<dest>.+)$")
_PUSH = re.compile(rf"^(?:push|slide|shove|nudge|shift)\s+(?P<obj>.+?)\s+(?:to(?:wards?)?\s+(?:the\s+)?|)"
                   rf"(?P<dir>{_DIRECTION})(?:\s+side)?$")
_MOVE_TO = re.compile(r"^(?:move|go|reach)(?:\s+(?:the\s+)?(?:arm|gripper|hand|robot))?\s+(?:to|over|above)\s+"
                      r"(?P<dest>.+)$")


# the closed set of non-object words the parser knows (e.g. for a speech grammar); objects are free text
COMMAND_WORDS: tuple[str, ...] = (
    "pick", "up", "grab", "grasp", "take", "lift", "get", "put", "place", "move", "drop", "stack", "set", "bring",
    "carry", "transfer", "lay", "push", "slide", "shove", "nudge", "shift", "go", "return", "home", "open", "close",
    "release", "grip", "gripper", "hand", "in", "into", "inside", "on", "onto", "top", "of", "at", "to", "over",
    "next", "near", "above", "beside", "it", "them", "the", "a", "and", "then", "all", "every", "each",
    *sorted({w for d in DIRECTIONS for w in d.split()}), *sorted({w for k in LOCATION_SYNONYMS for w in k.split()}),
)


@dataclass
class SkeletonStep:
    """One primitive with its target as said: `phrase` for objects, `location` for named places."""

    type: PrimitiveType
    phrase: str = ""  # free-text object phrase the VLM must point at
    location: str = ""  # canonical LOCATIONS key when the target is a named table location
    direction: str = ""  # push only
    every: bool = False  # "all the red blocks": one step per object the VLM finds

    @property
    def needs_pointing(self) -> bool:
        return bool(self.phrase) and not self.location


@dataclass
class Skeleton:
    instruction: str
    steps: list[SkeletonStep] = field(default_factory=list)

    @property
    def phrases(self) -> list[str]:
        """Object phrases to point at, in order, each once."""
        seen: list[str] = []
        for step in self.steps:
            if step.needs_pointing and step.phrase not in seen:
                seen.append(step.phrase)
        return seen


def normalise(text: str) -> str:
    text = re.sub(r"[.!?;:\"]+", " ", text.lower())
    text = " ".join(text.replace("’", "'").split())
    return _POLITE.sub("", text).strip()


def clean_phrase(text: str) -> tuple[str, bool]:
    """("the small box" → "small box", every=False); ("all the red blocks" → "red blocks", True)."""
    text = text.strip()
    every = bool(_EVERY.match(text))
    text = _EVERY.sub("", text)
    for _ in range(2):
        text = _ARTICLES.sub("", text)
    return text.strip(), every


def location_of(phrase: str) -> str:
    """The canonical named location a destination phrase means, or ''."""
    words = phrase.replace(" of the table", "").replace(" of table", "")
    words = words.replace("centre", "center").strip()
    return words if words in LOCATION_SYNONYMS else ""


def _clause(text: str, previous: str) -> list[SkeletonStep]:
    if _HOME.match(text):
        return [SkeletonStep(PrimitiveType.HOME)]
    if _OPEN.match(text):
        return [SkeletonStep(PrimitiveType.OPEN_GRIPPER)]
    if _CLOSE.match(text):
        return [SkeletonStep(PrimitiveType.CLOSE_GRIPPER)]
    if m := _MOVE_TO.match(text):
        dest, _ = clean_phrase(m["dest"])
        where = location_of(dest)
        return [SkeletonStep(PrimitiveType.MOVE_TO, phrase=dest, location=where)]
    if m := _PUSH.match(text):
        obj, every = clean_phrase(m["obj"])
        obj = previous if obj in _PRONOUNS and previous else obj
        return [SkeletonStep(PrimitiveType.PUSH, phrase=obj, direction=m["dir"], every=every)]
    if m := _PUT.match(text):
        obj, every = clean_phrase(m["obj"])
        dest, _ = clean_phrase(m["dest"])
        if not dest:
            raise GroundingRefusal(f"I did not understand where to put it in {text!r}.")
        place = SkeletonStep(PrimitiveType.PLACE, phrase=dest, location=location_of(dest))
        if obj in _PRONOUNS:
            if not previous:
                raise GroundingRefusal(f"I don't know what {obj!r} refers to in {text!r}.")
            return [place]
        return [SkeletonStep(PrimitiveType.PICK, phrase=obj, every=every), place]
    if m := _PICK.match(text):
        obj, every = clean_phrase(m["obj"])
        if obj in _PRONOUNS:
            raise GroundingRefusal(f"I don't know what {obj!r} refers to in {text!r}.")
        if location_of(obj):
            raise GroundingRefusal(f"I can't pick up a place ({obj!r}).")
        return [SkeletonStep(PrimitiveType.PICK, phrase=obj, every=every)]
    raise GroundingRefusal(
        f"I did not understand {text!r}. I can pick, put/place/move/stack something somewhere, push something "
        "left/right/forward/back, move to a place, go home, and open or close the gripper.")


def parse_instruction(instruction: str) -> Skeleton:
    """Instruction → Skeleton. Raises GroundingRefusal naming the part that was not understood."""
    text = normalise(instruction)
    if not text:
        raise GroundingRefusal("The instruction has no words I can act on.")
    skeleton = Skeleton(instruction)
    previous = ""
    for clause in (c for c in _SPLIT.split(text) if c and c.strip()):
        clause = _POLITE.sub("", clause.strip())
        for step in _clause(clause, previous):
            if step.type is PrimitiveType.PICK:
                previous = step.phrase
            if not step.phrase and step.type.needs_target:
                raise GroundingRefusal(f"I did not understand what to act on in {clause!r}.")
            skeleton.steps.append(step)
    return skeleton
