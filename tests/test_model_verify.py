"""The perception check: refuse objects the patch classifier does not see, drop extra picks."""

from __future__ import annotations

import torch

from vlm_ros.models.labels import NUM_PATCH_CLASSES, label_class
from vlm_ros.models.verify import presence_score, split_steps, two_patch_support, verify_program

GRID = 4


def probs(present: dict[int, str], bowl_patches: int = 2) -> torch.Tensor:
    """[P, C]: clear table everywhere, except the given patch -> label (a bowl also fills the
    patch to its right: bowls are wider than a patch)."""
    p = torch.zeros(GRID * GRID, NUM_PATCH_CLASSES)
    p[:, 0] = 1.0
    for patch, label in present.items():
        for q in range(patch, patch + (bowl_patches if label.endswith("bowl") else 1)):
            p[q] = 0.0
            p[q, label_class(label)] = 1.0
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


def test_two_patch_support_needs_adjacent_agreement():
    grid = torch.zeros(GRID, GRID)
    grid[1, 1] = 0.9
    assert two_patch_support(grid.flatten(), GRID) == 0.0  # one patch alone
    grid[2, 2] = 0.7  # diagonal neighbour
    assert abs(two_patch_support(grid.flatten(), GRID) - 0.7) < 1e-6
    grid[0, 3] = grid[3, 0] = 1.0  # corners, far apart: no support from each other
    assert abs(two_patch_support(grid.flatten(), GRID) - 0.7) < 1e-6


def test_a_bowl_needs_two_patches_a_block_one():
    lone = probs({5: "gray bowl", 0: "red block"}, bowl_patches=1)  # e.g. a block's shadow read as a gray bowl
    assert presence_score("red block", lone, GRID) == 1.0
    assert presence_score("gray bowl", lone, GRID) == 0.0
    assert presence_score("gray bowl", probs({5: "gray bowl"}), GRID) == 1.0
    assert presence_score("top left corner", lone, GRID) == 1.0
    words = ["pick", "red", "block", "<loc>", "place", "gray", "bowl", "<loc>"]
    assert verify_program(words, [0, 5], lone, GRID, 0.3)[0] == ["refuse", "gray", "bowl"]
    # the bowl threshold is separate from the block threshold
    half = probs({0: "red block", 5: "gray bowl"}) * 0.6
    assert verify_program(words, [0, 5], half, GRID, 0.5, bowl_threshold=0.7)[0] == ["refuse", "gray", "bowl"]
    assert verify_program(words, [0, 5], half, GRID, 0.5, bowl_threshold=0.55)[0] == words


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


def test_a_single_pick_is_completed_only_when_the_instruction_asks_for_all():
    from vlm_ros.models.verify import unpicked_object

    seen = probs({0: "red block", 10: "red block", 7: "green bowl"})
    patch = 8.0  # model pixels per patch
    one = ["pick", "red", "block", "<loc>", "place", "green", "bowl", "<loc>"]
    points = [(0.5 * patch, 0.5 * patch), (3.5 * patch, 1.5 * patch)]  # on patch 0, on the bowl
    assert unpicked_object(one, points, seen, GRID, patch, threshold=0.5, radius=1.5) is None
    found = unpicked_object(one, points, seen, GRID, patch, threshold=0.5, radius=1.5, asks_for_all=True)
    assert found == ("red block", "green bowl")
    # a chain of two labels: "all" may belong to the other clause, so nothing is added
    chain = [*one, "pick", "blue", "block", "<loc>", "place", "green", "bowl", "<loc>"]
    seen[3, :] = 0.0
    seen[3, label_class("blue block")] = 1.0
    chain_points = [*points, (3.5 * patch, 0.5 * patch), points[1]]
    assert unpicked_object(chain, chain_points, seen, GRID, patch, threshold=0.5, radius=1.5,
                           asks_for_all=True) is None
