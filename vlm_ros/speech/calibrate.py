"""Fit pocketsphinx's confidence (a logistic model of its acoustic scores) and the acceptance threshold.

    python -m vlm_ros.speech.calibrate --engines espeak,flite,festival,mbrola --noise white:20,pink:10,reverb

Data: testset.CALIBRATION_COMMANDS and CALIBRATION_NON_COMMANDS spoken at CALIBRATION_SPEEDS, never
the sentences or the speed the evaluation scores, so the threshold is not tuned on the test. Only
utterances the grammar accepted matter (anything else is rejected before confidence): correct
commands are positives, non-commands forced into a command are negatives. The fitted weights go
into pocketsphinx_asr.CONFIDENCE_WEIGHTS; the threshold that keeps calibration false accepts
under --target-far is printed for min_confidence.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from vlm_ros.speech.degrade import Condition
from vlm_ros.speech.evaluate import Report, make_pipeline, run
from vlm_ros.speech.testset import CALIBRATION_COMMANDS, CALIBRATION_NON_COMMANDS, CALIBRATION_SPEEDS
from vlm_ros.speech.voices import missing_engines, voices


def features(trials: list) -> tuple[np.ndarray, np.ndarray]:
    """[N, 2] (acoustic log-likelihood per frame, worst word per frame) and [N] labels, accepted utterances only."""
    rows, labels = [], []
    for t in trials:
        s = t.heard.scores
        per_frame, worst = s.get("acoustic_per_frame"), s.get("worst_word_per_frame")
        if t.heard.status == "not_understood" or per_frame is None or not math.isfinite(per_frame):
            continue
        rows.append((per_frame, worst))
        labels.append(1.0 if (t.command and t.correct) else 0.0)
    return np.asarray(rows, np.float64).reshape(-1, 2), np.asarray(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> tuple[float, ...]:
    """Weights (a, b, ..., bias) of P(y=1) = logistic(x·w + bias), by Newton's method with a little L2."""
    xb = np.hstack([x, np.ones((x.shape[0], 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -60, 60)))
        grad = xb.T @ (p - y) + l2 * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + l2 * np.eye(xb.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return tuple(float(v) for v in w)


def threshold_for(scores_neg: np.ndarray, scores_pos: np.ndarray, target_far: float, n_neg_total: int) -> float:
    """Lowest threshold whose false accepts (over every non-command spoken) stay within target_far."""
    for t in np.unique(np.concatenate([scores_pos, scores_neg, [0.5]])):
        if np.sum(scores_neg >= t) <= target_far * n_neg_total:
            return float(t)
    return 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vlm_ros.speech.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="espeak,flite,festival,mbrola")
    parser.add_argument("--noise", default="white:20,pink:10,reverb")
    parser.add_argument("--target-far", type=float, default=0.005)
    parser.add_argument("--voices-per-engine", type=int, default=3)
    parser.add_argument("--speeds", default=",".join(map(str, CALIBRATION_SPEEDS)))
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e and e not in missing_engines([e])]
    voice_list = [v for e in engines for v in voices([e])[: args.voices_per_engine]]
    conditions = [Condition("clean")] + [Condition.parse(c) for c in args.noise.split(",") if c]
    pipeline = make_pipeline(min_confidence=0.0)
    report = Report()
    speeds = [float(s) for s in args.speeds.split(",")]
    if 1.0 in speeds:
        parser.error("speed 1.0 is the evaluation's; calibrate on other speeds")
    for speed in speeds:
        run(pipeline, CALIBRATION_COMMANDS, voice_list, conditions, True, report, speed=speed)
        run(pipeline, CALIBRATION_NON_COMMANDS, voice_list, conditions, False, report, speed=speed)
    x, y = features(report.trials)
    if y.size == 0 or y.min() == y.max():
        print("calibration needs both accepted commands and accepted non-commands; add voices or conditions",
              file=sys.stderr)
        return 1
    weights = fit_logistic(x, y)
    z = np.hstack([x, np.ones((x.shape[0], 1))]) @ np.asarray(weights)
    conf = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
    n_neg = len(report.non_commands())
    t = threshold_for(conf[y == 0], conf[y == 1], args.target_far, n_neg)
    kept = float(np.mean(conf[y == 1] >= t)) if np.any(y == 1) else 0.0
    print(f"CONFIDENCE_WEIGHTS = ({weights[0]:.3f}, {weights[1]:.3f}, {weights[2]:.3f})")
    print(f"min_confidence = {t:.3f}: keeps {kept:.1%} of {int(y.sum())} correctly heard commands; "
          f"{int(np.sum(conf[y == 0] >= t))} of {n_neg} non-commands accepted "
          f"({int(np.sum(y == 0))} got through the grammar); {len(report.trials)} clips in {report.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
