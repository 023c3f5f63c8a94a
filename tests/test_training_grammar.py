"""Instruction grammar and batches: determinism, targets that match the scene, phrasing splits."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.models.processor import ImageProcessor, ImageProcessorConfig
from vlm_ros.models.tokenizer import EOS, LOC, SEP, UNK, build_tokenizer
from vlm_ros.training.dataset import IGNORE, NO_AUGMENT, Augment, BatchBuilder
from vlm_ros.training.grammar import TASKS, InstructionGrammar, load_template_set, vocabulary_texts
from vlm_ros.training.synthetic import synthetic_locations, synthetic_scene

PROC = ImageProcessor(ImageProcessorConfig(image_size=32))


@pytest.fixture(scope="module")
def grammar():
    return InstructionGrammar(load_template_set("train"), synthetic_locations(PROC))


def test_same_seed_same_examples(grammar):
    scenes = [synthetic_scene(s, PROC) for s in range(20)]

    def run(seed):
        rng = np.random.default_rng(seed)
        return [(e.instruction, e.target_words()) for s in scenes for e in [grammar.sample(rng, s)]]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_targets_match_the_scene(grammar):
    rng = np.random.default_rng(0)
    for seed in range(200):
        scene = synthetic_scene(seed, PROC)
        labels = {o.label for o in scene.objects}
        ex = grammar.sample(rng, scene)
        words = ex.target_words()
        if ex.refused is not None:
            assert ex.refused not in labels and words[0] == "refuse"
            continue
        assert words.count("<loc>") == len(ex.steps) and len(ex.steps) % 2 == 0
        for step in ex.steps:
            assert step.label in labels or step.label in grammar.location_pixels
        if ex.task == "put-all-color-in-bowl":
            color = ex.steps[0].label.split()[0]
            n = sum(o.label == f"{color} block" for o in scene.objects)
            assert len(ex.steps) == 2 * n


def test_heldout_phrasings_are_not_trained_and_bench_phrasings_are():
    from vlm_ros.sim.tasks import TASKS as BENCH

    train, held = load_template_set("train"), load_template_set("heldout")
    for task in TASKS:
        assert held[task] and not set(held[task]) & set(train[task])
    for name, task in BENCH.items():
        own = train.get(name, train["put-block-in-bowl"])
        missing = [t for t in task.templates if t not in own]
        assert not missing, f"bench templates of {name} not in training: {missing}"


def test_batch_layout(grammar):
    tok = build_tokenizer(vocabulary_texts(load_template_set("train")))
    builder = BatchBuilder(tok, PROC, grammar, patch_size=8)
    rng = np.random.default_rng(1)
    scenes = [synthetic_scene(s, PROC) for s in range(3)]
    b = builder.build(rng, scenes, 4, NO_AUGMENT)
    assert b["pixel_values"].shape == (3, 3, 32, 32) and b["input_ids"].shape[0] == 12
    for row in range(12):
        ids = b["input_ids"][row].tolist()
        sep = ids.index(SEP)
        labels = b["labels"][row].tolist()
        assert all(x == IGNORE for x in labels[:sep]) and labels[sep] != IGNORE
        assert EOS in labels
        for j in b["loc_positions"][row][b["loc_mask"][row]].tolist():
            assert ids[j] == LOC
            if j + 1 < len(ids) and ids[j + 1] != 0:
                assert b["feedback"][row, j + 1] >= 0
    again = builder.build(np.random.default_rng(1), scenes, 4, NO_AUGMENT)
    assert all((b[k] == again[k]).all() for k in b)
    noisy = builder.build(np.random.default_rng(2), scenes, 4, Augment(word_dropout=1.0, unk_insert=0.0))
    assert (noisy["input_ids"] == UNK).any()


def test_chains_usually_fill_two_different_bowls(grammar):
    """Two-step chains must teach the decoder to bind each clause to its own bowl."""
    rng = np.random.default_rng(5)
    same = different = 0
    for seed in range(400):
        scene = synthetic_scene(seed, PROC)
        bowls = {o.label for o in scene.objects if o.kind == "bowl"}
        if len(bowls) < 2:
            continue
        ex = grammar.sample(rng, scene, "multi-step")
        places = [s.label for s in ex.steps if s.op == "place" and s.label in bowls]
        if ex.task == "multi-step" and len(places) == 2:
            same += places[0] == places[1]
            different += places[0] != places[1]
    assert different > 2 * same > 0


def test_heavy_dropout_keeps_the_words_that_carry_the_meaning(grammar):
    tok = build_tokenizer(vocabulary_texts(load_template_set("train")))
    builder = BatchBuilder(tok, PROC, grammar, patch_size=8)
    text = "could you put the red block into the green bowl"
    aug = Augment(word_dropout=0.0, unk_insert=0.0, heavy_share=1.0, heavy_dropout=1.0)
    words = tok.convert_ids_to_tokens(builder.encode_instruction(np.random.default_rng(0), text, aug))
    assert words == ["<unk>", "<unk>", "<unk>", "<unk>", "red", "block", "<unk>", "<unk>", "green", "bowl"]


def test_template_weights_repeat_in_training_only(tmp_path):
    from vlm_ros.training.grammar import read_templates

    f = tmp_path / "t.txt"
    f.write_text("# comment\nput the {pick} in the {place}\n[3] onto the {place} put the {pick}\n\n")
    assert read_templates(f) == ["put the {pick} in the {place}", "onto the {place} put the {pick}"]
    trained = read_templates(f, weighted=True)
    assert trained == ["put the {pick} in the {place}"] + ["onto the {place} put the {pick}"] * 3
