"""The command grammar as JSGF: generated from the vocabulary by default, or a user's file.

The recogniser is constrained to it (pocketsphinx) or checked against it (whisper), which
is what keeps out-of-grammar speech from becoming robot motion. The generated grammar is
also shipped as vlm_ros/speech/grammars/commands.gram, a starting point for custom ones;
a test keeps that file equal to what the generator produces.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from vlm_ros.core.errors import InputError
from vlm_ros.speech.commands import (
    FILLERS,
    STOP_WORDS,
    Command,
    command_rule,
    normalize,
    parse_command,
    read_vocabulary,
)
from vlm_ros.speech.phrases import Rule

GRAMMAR_DIR = Path(__file__).parent / "grammars"
SHIPPED_GRAMMAR = GRAMMAR_DIR / "commands.gram"
HEADER = """Spoken commands vlm_ros understands, generated from vlm_ros/core/vocabulary.py by
vlm_ros/speech/commands.py (python -m vlm_ros.speech.grammar > commands.gram).
Copy and edit it for your robot, then pass it as the grammar_path parameter."""


class GrammarError(InputError):
    """A grammar file is missing or cannot be parsed."""


def phrase_grammar(phrases: tuple[str, ...], name: str, rule: Rule | None = None) -> CommandGrammar:
    """A grammar of exactly these phrases (one public rule): for the second, narrower decoding passes."""
    if not phrases:
        raise GrammarError(f"the {name} grammar needs at least one phrase")
    jsgf = f"#JSGF V1.0;\ngrammar {name};\npublic <{name}> = {' | '.join(phrases)};\n"
    return CommandGrammar(jsgf, " | ".join(phrases), rule)


def stop_grammar(commands: CommandGrammar) -> CommandGrammar | None:
    """The stop words `commands` accepts, and the fillers (no command; they keep other short talk from
    being forced onto "stop"); None when `commands` has no stop word (a custom grammar without one)."""
    words = tuple(w for w in STOP_WORDS if commands.accepts(w))
    return phrase_grammar(words + FILLERS, "stop", commands.rule) if words else None


def generated_jsgf(objects: tuple[str, ...] = (), wake_phrase: str = "") -> str:
    return command_rule(objects, wake_phrase).jsgf_document("commands", header=HEADER)


@dataclass
class CommandGrammar:
    """JSGF text plus the checks every backend needs (vocabulary, acceptance)."""

    jsgf: str
    origin: str = "generated"  # file path, or "generated"
    rule: Rule | None = field(default=None, repr=False)  # the phrase rule that parses what was heard
    _fsg: object | None = field(default=None, repr=False)

    @classmethod
    def build(cls, grammar_path: str = "", vocabulary_file: str = "", wake_phrase: str = "") -> CommandGrammar:
        """The grammar speech_node uses: a user's file, or one generated for the vocabulary and wake phrase."""
        if str(grammar_path):
            return cls.load(grammar_path)
        objects = read_vocabulary(vocabulary_file) if vocabulary_file else ()
        wake = normalize(wake_phrase)
        origin = "generated" + (f" for {vocabulary_file}" if objects else "") + (f", wake {wake!r}" if wake else "")
        return cls(generated_jsgf(objects, wake), origin, command_rule(objects))  # parses text without the wake

    def parse(self, text: str) -> Command | None:
        """Canonical command of `text` (without the wake phrase) under this grammar's vocabulary."""
        return parse_command(text, self.rule)

    @classmethod
    def load(cls, path: str | Path = "") -> CommandGrammar:
        """The grammar in `path`; the generated one when path is empty."""
        if not str(path):
            return cls(generated_jsgf())
        path = Path(path).expanduser()
        if not path.is_file():
            raise GrammarError(f"grammar file {str(path)!r} does not exist (grammar_path); leave it empty "
                               f"for the generated command grammar")
        return cls(path.read_text(), str(path))

    @property
    def public_rule(self) -> str:
        """Name of the first public rule: the grammar's entry point (as pocketsphinx picks it)."""
        match = re.search(r"public\s+<([^>]+)>", _strip_comments(self.jsgf))
        if match is None:
            raise GrammarError(f"grammar {self.origin} has no public rule (`public <name> = ...;`)")
        return match.group(1)

    @property
    def name(self) -> str:
        match = re.search(r"grammar\s+([\w.]+)\s*;", _strip_comments(self.jsgf))
        if match is None:
            raise GrammarError(f"grammar {self.origin} has no `grammar NAME;` line")
        return match.group(1)

    def words(self) -> set[str]:
        """Every word the grammar can produce (for dictionary checks)."""
        body = _strip_comments(self.jsgf)
        body = re.sub(r"^\s*(#JSGF|grammar|import)[^;]*;", " ", body, flags=re.M)
        body = re.sub(r"(public\s+)?<[^>]+>\s*=", " ", body)  # rule heads
        body = re.sub(r"<[^>]+>|\{[^}]*\}|/[\d.]+/", " ", body)  # references, tags, weights
        return {w.lower() for w in re.split(r"[\s()\[\]|;*+]+", body) if w}

    def accepts(self, text: str) -> bool:
        """True when the word sequence is a complete sentence of the grammar."""
        words = text.split()
        return bool(words) and bool(self._finite_state().accept(" ".join(words)))

    def _finite_state(self):  # pocketsphinx.FsgModel
        if self._fsg is None:
            from pocketsphinx import Jsgf, LogMath

            with tempfile.NamedTemporaryFile("w", suffix=".gram", delete=False) as tmp:
                tmp.write(self.jsgf)
            try:
                jsgf = Jsgf(tmp.name)
                rule = jsgf.get_rule(f"{self.name}.{self.public_rule}")
                if rule is None:
                    raise GrammarError(f"grammar {self.origin}: rule <{self.public_rule}> not found")
                self._fsg = jsgf.build_fsg(rule, LogMath(), 1.0)
            except (RuntimeError, ValueError) as exc:
                raise GrammarError(f"grammar {self.origin} cannot be parsed as JSGF: {exc}") from None
            finally:
                Path(tmp.name).unlink(missing_ok=True)
        return self._fsg


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


if __name__ == "__main__":
    print(generated_jsgf(), end="")
