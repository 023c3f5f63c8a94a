"""Which prompt to send and how to read the reply, per model family.

`vlm_ros` is our own program format (what `vlm-ros serve` answers with): the prompt is the
instruction itself and the reply is parsed by vlm_ros.grounding.program. Other families
(Qwen2.5-VL JSON boxes, PaliGemma `<loc>` tokens, ...) come from the families registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.grounding.program import Program, parse_program

OWN_FORMAT = "vlm_ros"


@dataclass(frozen=True)
class RemoteFamily:
    name: str
    prompt: Callable[[str], str]  # instruction -> the text part of the user message
    parse: Callable[[str, int, int], Program]  # (reply text, sent width, sent height) -> program in sent px


def remote_family(name: str) -> RemoteFamily:
    """The adapter for `name`; ModelLoadError listing the known ones when it is unknown."""
    if name == OWN_FORMAT:
        return RemoteFamily(OWN_FORMAT, lambda instruction: instruction, lambda text, _w, _h: parse_program(text))
    raise ModelLoadError(f"Unknown model_family {name!r} for the remote backend; known: {OWN_FORMAT}.")
