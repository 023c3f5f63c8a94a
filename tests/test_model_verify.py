"""The perception check: refuse objects the patch classifier does not see, drop extra picks."""

from __future__ import annotations

import torch

from vlm_ros.models.labels import NUM_PATCH_CLASSES, label_class
from vlm_ros.models.verify import split_steps, verify_program

GRID = 4


def probs(present: dict[int, str]) -> torch.Tensor:
    """[P, C]: clear table everywhere, except the given patch -> label."""
    p = torch.zeros(GRID * GRID, NUM_PATCH_CLASSES)
    p[:, 0] = 1.0
    for patch, label in present.items():
        p[patch] = 0.0
        p[patch, label_class(label)] = 1.0
    return p


def test_label_classes_are_distinct():
    labels = [f"{c} {k}" for c in ("red", "green", "gray") for k in ("block", "bowl")]
    assert len({label_class(x) for x in labels}) == len(labels)
    assert label_class("top left corner") == -1


def test_split_steps():
    words = ["pick", "red", "block", "<loc>", "place", "top", "left", "corner", "<loc>"]
    assert split_steps(words) == [("pick", "red block"), ("place", "top left corner")]


def test_missing_object_becomes_a_refusal():
    words = ["pick", "red", "block", "<loc>", "place", "green", "bowl", "<loc>"]
    seen = probs({0: "red block"})
    assert verify_program(words, [0, 5], seen, GRID, 0.3) == (["refuse", "green", "bowl"], [])
    both = probs({0: "red block", 10: "green bowl"})
    assert verify_program(words, [0, 10], both, GRID, 0.3) == (words, [0, 1])


def test_extra_pick_of_a_repeated_label_is_dropped():
    words = ("pick red block <loc> place blue bowl <loc> " * 3).split()
    seen = probs({0: "red block", 15: "red block", 10: "blue bowl"})
    kept_words, kept = verify_program(words, [0, 10, 15, 10, 6, 10], seen, GRID, 0.3)
    assert kept == [0, 1, 2, 3]
    assert kept_words == ("pick red block <loc> place blue bowl <loc> " * 2).split()


def test_a_block_picked_twice_is_dropped():
    words = ("pick red block <loc> place blue bowl <loc> " * 2).split()
    seen = probs({0: "red block", 10: "blue bowl"})
    points = [(4.0, 4.0), (20.0, 20.0), (5.0, 6.0), (20.0, 20.0)]
    kept_words, kept = verify_program(words, [0, 10, 0, 10], seen, GRID, 0.3, points, same_radius=6.0)
    assert kept == [0, 1] and kept_words == words[:8]
