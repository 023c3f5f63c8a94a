"""A tiny phrase-grammar language: one definition gives both the JSGF text and a parser.

The command grammar the recogniser is constrained to and the parser that turns its output
into a canonical command must never disagree, so both come from the same expression tree:

    obj = Rule("object", Capture("object", Seq(Opt("the"), Slot("color", {...}), Slot("kind", {...}))))
    Rule("pick", Seq(Alt("pick up", "grab"), obj)).jsgf_rules()   # -> {"pick": "(pick up | grab) <object>"}
    Seq(...).parse("pick up the red block")                         # -> captures, or None

Matching is exhaustive backtracking over words: command grammars are small and utterances short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

Captures = tuple[tuple[str, str], ...]  # (name, value) pairs, in utterance order
Match = Iterator[tuple[int, Captures]]  # (index after the match, captures)


class Expr:
    """Base of every phrase expression."""

    def match(self, words: list[str], i: int) -> Match:
        raise NotImplementedError

    def jsgf(self, rules: dict[str, str]) -> str:
        """JSGF expansion; referenced rules are added to `rules`."""
        raise NotImplementedError

    def vocabulary(self) -> set[str]:
        rules: dict[str, str] = {}
        text = " ".join([self.jsgf(rules), *rules.values()])
        return {w for w in text.replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ").split()
                if w != "|" and not w.startswith("<")}

    def parse(self, text: str) -> Captures | None:
        """Captures of the first complete parse of `text` (lower-case words), or None."""
        words = text.split()
        for end, captures in self.match(words, 0):
            if end == len(words):
                return captures
        return None


def _expr(item: Expr | str) -> Expr:
    return Words(item) if isinstance(item, str) else item


@dataclass(frozen=True)
class Words(Expr):
    """A fixed word sequence, e.g. "pick up"."""

    text: str

    def match(self, words: list[str], i: int) -> Match:
        mine = self.text.split()
        if words[i:i + len(mine)] == mine:
            yield i + len(mine), ()

    def jsgf(self, rules: dict[str, str]) -> str:
        return self.text


class Seq(Expr):
    def __init__(self, *items: Expr | str):
        self.items = [_expr(x) for x in items]

    def match(self, words: list[str], i: int) -> Match:
        def rest(k: int, at: int, acc: Captures) -> Match:
            if k == len(self.items):
                yield at, acc
                return
            for end, caps in self.items[k].match(words, at):
                yield from rest(k + 1, end, acc + caps)

        yield from rest(0, i, ())

    def jsgf(self, rules: dict[str, str]) -> str:
        return " ".join(x.jsgf(rules) for x in self.items)


class Alt(Expr):
    def __init__(self, *items: Expr | str):
        self.items = [_expr(x) for x in items]

    def match(self, words: list[str], i: int) -> Match:
        for item in self.items:
            yield from item.match(words, i)

    def jsgf(self, rules: dict[str, str]) -> str:
        return "(" + " | ".join(x.jsgf(rules) for x in self.items) + ")"


class Opt(Expr):
    def __init__(self, item: Expr | str):
        self.item = _expr(item)

    def match(self, words: list[str], i: int) -> Match:
        yield from self.item.match(words, i)
        yield i, ()

    def jsgf(self, rules: dict[str, str]) -> str:
        return "[" + self.item.jsgf(rules) + "]"


class Slot(Expr):
    """One of several phrases, captured as its canonical value: {"cube": "block", "box": "block"}."""

    def __init__(self, name: str, choices: dict[str, str]):
        self.name = name
        # longest phrases first, so "top left corner" is tried before "top left"
        self.choices = dict(sorted(choices.items(), key=lambda kv: -len(kv[0].split())))

    def match(self, words: list[str], i: int) -> Match:
        for phrase, value in self.choices.items():
            mine = phrase.split()
            if words[i:i + len(mine)] == mine:
                yield i + len(mine), ((self.name, value),)

    def jsgf(self, rules: dict[str, str]) -> str:
        return "(" + " | ".join(self.choices) + ")"


class Capture(Expr):
    """Collapse the inner captures into one (name, build(inner)) capture, e.g. color+kind -> "red block"."""

    def __init__(self, name: str, item: Expr | str, build: Callable[[dict[str, str]], str]):
        self.name, self.item, self.build = name, _expr(item), build

    def match(self, words: list[str], i: int) -> Match:
        for end, caps in self.item.match(words, i):
            yield end, ((self.name, self.build(dict(caps))),)

    def jsgf(self, rules: dict[str, str]) -> str:
        return self.item.jsgf(rules)


class Rule(Expr):
    """A named JSGF rule: rendered as `<name>` and defined once in the document."""

    def __init__(self, name: str, item: Expr | str):
        self.name, self.item = name, _expr(item)

    def match(self, words: list[str], i: int) -> Match:
        yield from self.item.match(words, i)

    def jsgf(self, rules: dict[str, str]) -> str:
        if self.name not in rules:
            rules[self.name] = ""  # placeholder first: keeps definition order parents-before-children stable
            rules[self.name] = self.item.jsgf(rules)
        return f"<{self.name}>"

    def jsgf_document(self, grammar_name: str, header: str = "") -> str:
        """A whole JSGF grammar with this rule as the public entry point, every referenced rule defined."""
        rules: dict[str, str] = {}
        self.jsgf(rules)
        lines = ["#JSGF V1.0;", *(f"// {line}" if line else "//" for line in header.splitlines()),
                 f"grammar {grammar_name};", ""]
        for name, body in rules.items():
            public = "public " if name == self.name else ""
            lines.append(f"{public}<{name}> = {body};")
        return "\n".join(lines) + "\n"
