"""Constrained decoding's grammar accepts exactly the programs the parser and the bench expect."""

from __future__ import annotations

from vlm_ros.core.vocabulary import COLORS
from vlm_ros.models.program_grammar import EOS, allowed_next


def words(text: str) -> list[str]:
    return text.split()


def accepts(program: list[str]) -> bool:
    return all(w in allowed_next(program[:i]) for i, w in enumerate(program))


def test_programs_the_grammar_accepts():
    assert allowed_next([]) == {"pick", "refuse"}
    assert allowed_next(["pick"]) == set(COLORS)
    assert accepts(words("pick red block <loc> place green bowl <loc> <eos>"))
    assert accepts(words("pick red block <loc> place top left corner <loc> "
                         "pick blue block <loc> place center <loc> <eos>"))
    assert accepts(words("refuse purple bowl <eos>"))


def test_programs_the_grammar_rejects():
    assert not accepts(words("place green bowl <loc>"))  # a place needs a pick first
    assert not accepts(words("pick red bowl <loc>"))  # bowls are not picked
    assert not accepts(words("pick red block <loc> <eos>"))  # a pick needs its place
    assert not accepts(words("pick red block <loc> place top corner <loc>"))
    assert EOS not in allowed_next([])


def test_a_program_that_must_act_cannot_refuse():
    """The second decode after an overruled refusal (TorchGrounder.decode_checked)."""
    assert allowed_next([], refusal=False) == {"pick"}
    assert allowed_next(["pick", "red", "block", "<loc>"], refusal=False) == {"place"}
