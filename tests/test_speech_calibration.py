"""The acceptance threshold is fitted on data the evaluation never scores, by a fit that recovers known weights."""

from __future__ import annotations

import numpy as np
import pytest

from vlm_ros.speech.calibrate import fit_logistic, threshold_for
from vlm_ros.speech.grammar import CommandGrammar
from vlm_ros.speech.testset import (
    CALIBRATION_NON_COMMANDS,
    CALIBRATION_SPEEDS,
    COMMANDS,
    NON_COMMANDS,
    PADDING,
    clip_seed,
)


def test_calibration_and_evaluation_sentences_are_disjoint():
    assert not set(CALIBRATION_NON_COMMANDS) & set(NON_COMMANDS)
    assert 1.0 not in CALIBRATION_SPEEDS  # the evaluation speaks at 1.0
    assert len(set(NON_COMMANDS)) >= 30


def test_test_set_is_well_formed():
    grammar = CommandGrammar.build()
    assert all(grammar.parse(c) is not None for c in COMMANDS), [c for c in COMMANDS if grammar.parse(c) is None]
    assert all(grammar.parse(n) is None for n in NON_COMMANDS + CALIBRATION_NON_COMMANDS)
    scene = [n for n in NON_COMMANDS if any(w in n.split() for w in ("block", "bowl", "cube", "box", "gripper"))]
    assert len(scene) >= 8  # statements about the scene in command words
    assert sum(lead <= 0.03 for lead, _ in PADDING) / len(PADDING) >= 0.3  # clips that start speaking at once
    assert clip_seed("a", 1) == clip_seed("a", 1) != clip_seed("a", 2)


def test_logistic_fit_recovers_known_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5)))
    y = (rng.random(4000) < p).astype(float)
    a, b, c = fit_logistic(x, y)
    assert (a, b, c) == pytest.approx((2.0, -1.0, 0.5), abs=0.2)


def test_threshold_keeps_false_accepts_within_the_target():
    neg, pos = np.array([0.2, 0.4, 0.7, 0.9]), np.array([0.6, 0.8, 0.95, 0.99])
    t = threshold_for(neg, pos, target_far=0.01, n_neg_total=100)  # at most 1 of 100 non-commands
    assert np.sum(neg >= t) <= 1 and t == pytest.approx(0.8)
