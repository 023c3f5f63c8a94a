"""The program language as a finite-state grammar, for constrained greedy decoding.

    program := (pick_step place_step)+ <eos> | refuse <color> (block | bowl) <eos>
    pick_step := pick <color> block <loc>
    place_step := place <color> (bowl | block) <loc> | place <location words> <loc>

Masking every other token at each step means the decoder can only write programs the parser accepts.
"""

from __future__ import annotations

from vlm_ros.core.vocabulary import COLORS, LOCATIONS

EOS, LOC = "<eos>", "<loc>"


def _steps() -> dict[str, list[tuple[str, ...]]]:
    colors = list(COLORS)
    return {
        "pick": [(c, "block", LOC) for c in colors],
        "place": [(c, k, LOC) for c in colors for k in ("bowl", "block")]
        + [(*name.split(), LOC) for name in LOCATIONS],
        "refuse": [(c, k, EOS) for c in colors for k in ("block", "bowl")],
    }


STEPS = _steps()


def allowed_next(words: list[str], refusal: bool = True) -> set[str]:
    """Words that may follow the program prefix `words`; refusal=False: a program that acts."""
    # split off the step in progress: everything after the last <loc>
    last_loc = max((i for i, w in enumerate(words) if w == LOC), default=-1)
    done, current = words[: last_loc + 1], words[last_loc + 1:]
    if not current:
        if not done:
            return {"pick", "refuse"} if refusal else {"pick"}
        ops = [w for w in done if w in STEPS]
        return {"place"} if ops[-1] == "pick" else {"pick", EOS}
    op, rest = current[0], tuple(current[1:])
    return {seq[len(rest)] for seq in STEPS.get(op, []) if seq[: len(rest)] == rest and len(seq) > len(rest)}
