"""Command accuracy on espeak-ng speech: N commands × voices × speeds, compared as canonical commands.

    python -m vlm_ros.speech.evaluate [--voices en-us,en-gb] [--speeds 140,175] [--json]

A recognition counts as correct when it is published (status ok) and means the same
command as the text that was spoken (commands.same_command). The same function backs
tests/test_speech_accuracy.py, so the number in docs/SPEECH.md is reproducible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

from vlm_ros.speech.commands import same_command
from vlm_ros.speech.pipeline import OK, Recognition, SpeechPipeline
from vlm_ros.speech.synth import spoken_clip

# 36 commands: every primitive, every colour, object and location synonyms, two-step commands.
COMMANDS: tuple[str, ...] = (
    "put the red block in the green bowl",
    "put the blue cube in the yellow bowl",
    "place the orange block on the purple block",
    "pick up the pink cube",
    "grab the cyan block",
    "take the white box",
    "pick up the brown block and put it in the gray bowl",
    "stack the yellow block on the red block",
    "stack the green cube on top of the blue cube",
    "drop the purple block into the orange dish",
    "put the gray cube in the white container",
    "move the red block to the top left corner",
    "move the blue block to the center",
    "move the green box to the right side",
    "put the yellow cube in the bottom right corner",
    "place the pink block at the top right corner",
    "put the cyan cube on the left side",
    "move the brown cube to the middle",
    "push the red block left",
    "push the blue cube to the right",
    "push the green block forward",
    "push the yellow box toward me",
    "push the orange cube away",
    "push the white block back",
    "move to the top side",
    "go to the bottom left corner",
    "move to the far side",
    "go home",
    "return home",
    "open the gripper",
    "close the gripper",
    "open gripper",
    "put all the red blocks in the blue bowl",
    "pick up the gray block then go home",
    "please put the white cube in the pink bowl",
    "put it in the green bowl",
)
VOICES: tuple[str, ...] = ("en-us", "en-us+f2", "en-us+klatt4")
SPEEDS: tuple[int, ...] = (130, 180)


@dataclass
class Trial:
    said: str
    voice: str
    speed: int
    heard: Recognition

    @property
    def correct(self) -> bool:
        return self.heard.status == OK and same_command(self.heard.text, self.said)


@dataclass
class Report:
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return sum(t.correct for t in self.trials) / max(1, len(self.trials))

    def by(self, key: str) -> dict[str, float]:
        groups: dict[str, list[bool]] = defaultdict(list)
        for t in self.trials:
            groups[str(getattr(t, key))].append(t.correct)
        return {k: sum(v) / len(v) for k, v in groups.items()}

    def errors(self) -> list[Trial]:
        return [t for t in self.trials if not t.correct]


def evaluate(pipeline: SpeechPipeline, commands: tuple[str, ...] = COMMANDS, voices: tuple[str, ...] = VOICES,
             speeds: tuple[int, ...] = SPEEDS) -> Report:
    """Synthesize each command in each voice and speed and recognise it as one stream (endpointed)."""
    report, t0 = Report(), time.perf_counter()
    for seed, (voice, speed, text) in enumerate((v, s, c) for v in voices for s in speeds for c in commands):
        clip = spoken_clip(text, voice, speed, seed=seed)
        results = pipeline.feed(clip) + pipeline.flush()
        heard = _best(results)
        report.trials.append(Trial(text, voice, speed, heard))
    report.seconds = time.perf_counter() - t0
    return report


def _best(results: list[Recognition]) -> Recognition:
    """The utterance to score: the published one if any (a clip holds one command), else the first."""
    if not results:
        return Recognition("not_understood", "", 0.0, reason="no speech detected")
    return next((r for r in results if r.status == OK), results[0])


def main(argv: list[str] | None = None) -> int:
    from vlm_ros.speech.asr import make_recognizer
    from vlm_ros.speech.config import DecisionConfig, EndpointConfig, RecognizerConfig
    from vlm_ros.speech.grammar import CommandGrammar

    parser = argparse.ArgumentParser(prog="python -m vlm_ros.speech.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default=",".join(VOICES), help="espeak-ng voices, comma-separated")
    parser.add_argument("--speeds", default=",".join(map(str, SPEEDS)), help="words per minute, comma-separated")
    parser.add_argument("--min-confidence", type=float, default=DecisionConfig().min_confidence)
    parser.add_argument("--json", action="store_true", help="print every trial as JSON lines")
    args = parser.parse_args(argv)
    grammar = CommandGrammar.load()
    pipeline = SpeechPipeline(make_recognizer(RecognizerConfig(), grammar), grammar,
                              DecisionConfig(min_confidence=args.min_confidence), EndpointConfig())
    report = evaluate(pipeline, COMMANDS, tuple(args.voices.split(",")), tuple(int(s) for s in args.speeds.split(",")))
    for t in report.trials if args.json else report.errors():
        line = {"said": t.said, "voice": t.voice, "speed": t.speed, "correct": t.correct, **t.heard.to_dict()}
        print(json.dumps(line) if args.json else f"MISS {t.voice} {t.speed}: {t.said!r} -> {t.heard.text!r} "
              f"({t.heard.status}, {t.heard.confidence:.2f})")
    n = len(report.trials)
    print(f"command accuracy {report.accuracy:.1%} ({n - len(report.errors())}/{n}: {len(COMMANDS)} commands × "
          f"{args.voices} × {args.speeds} wpm) in {report.seconds:.1f} s", file=sys.stderr)
    print("by voice: " + ", ".join(f"{k} {v:.0%}" for k, v in report.by("voice").items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
