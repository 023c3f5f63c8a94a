"""Command accuracy and false-accept rate over engines, voices and room conditions.

    python -m vlm_ros.speech.evaluate --engines espeak,flite,festival,mbrola \\
        --noise white:20,pink:20,white:10,pink:10,reverb [--wake-phrase robot] [--json]

Every clip is one command (testset.COMMANDS) or one non-command (testset.NON_COMMANDS) spoken
by one voice in one condition, fed as a stream (endpointed). A command counts as correct when
a recognition is published (status ok) and means the same command as the text spoken; a
non-command is a false accept when anything from it is published. The same functions back
tests/test_speech_accuracy.py (a short run), so the README table is reproducible.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from vlm_ros.speech.degrade import Condition
from vlm_ros.speech.pipeline import ASK_AGAIN, AWAITING_CONFIRMATION, OK, Recognition, SpeechPipeline
from vlm_ros.speech.testset import NON_COMMANDS, SHORT_NON_ANSWERS, clip_seed, command_subset, make_clip
from vlm_ros.speech.voices import ENGINES, missing_engines, voices

DEFAULT_NOISE = "white:20,pink:20,white:10,pink:10,reverb"
QUESTION_WAIT_S = 1.5  # with the confirmation turn, a speaker waits this long after a command for the question


@dataclass
class Trial:
    said: str
    voice: str
    condition: str
    command: bool  # True: a command (scored for accuracy); False: a non-command (scored for false accepts)
    heard: Recognition
    correct: bool  # command heard as itself / non-command not published
    reply: str = ""  # with the confirmation turn: what was said after the question ("" = nothing)

    @property
    def engine(self) -> str:
        return self.voice.split(":", 1)[0]


@dataclass
class Report:
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0

    def commands(self, **where: str) -> list[Trial]:
        return [t for t in self.trials if t.command and all(getattr(t, k) == v for k, v in where.items())]

    def non_commands(self, **where: str) -> list[Trial]:
        return [t for t in self.trials if not t.command and all(getattr(t, k) == v for k, v in where.items())]

    def accuracy(self, **where: str) -> float:
        trials = self.commands(**where)
        return sum(t.correct for t in trials) / max(1, len(trials))

    def false_accept_rate(self, **where: str) -> float:
        trials = self.non_commands(**where)
        return sum(not t.correct for t in trials) / max(1, len(trials))

    def errors(self) -> list[Trial]:
        return [t for t in self.trials if not t.correct]

    def table(self) -> str:
        """Markdown: one row per condition, accuracy per engine and overall, false accepts."""
        conditions = list(dict.fromkeys(t.condition for t in self.trials))
        engines = list(dict.fromkeys(t.engine for t in self.trials))
        head = ["condition", *engines, "all voices", "non-commands published"]
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for c in conditions:
            cells = [f"{self.accuracy(condition=c, engine=e):.1%}" if self.commands(condition=c, engine=e) else "-"
                     for e in engines]
            n, fa = len(self.commands(condition=c)), self.non_commands(condition=c)
            far = f"{sum(not t.correct for t in fa)}/{len(fa)}" if fa else "-"
            rows.append(f"| {c} | " + " | ".join(cells) + f" | **{self.accuracy(condition=c):.1%}** (n={n}) | {far} |")
        return "\n".join(rows)


def run(pipeline: SpeechPipeline, texts: Iterable[str], voice_list: Iterable[str], conditions: Iterable[Condition],
        command: bool, report: Report | None = None, prefix: str = "", speed: float = 1.0,
        log: str = "") -> Report:
    """Speak each text in each voice and condition; recognise each clip as one stream.

    log: a file every trial is appended to as a JSON line as soon as it is scored (a long run can be
    tabulated with --from-json while it goes on, or after it was stopped).
    """
    report = report or Report()
    t0 = time.perf_counter()
    for condition in conditions:
        for voice in voice_list:
            for text in texts:
                reply = ""
                if not pipeline.confirming:
                    results = hear(pipeline, make_clip(text, voice, condition, speed, prefix))
                else:  # the confirmation turn: the speaker hears the question, then answers it
                    results = pipeline.feed(make_clip(text, voice, condition, speed, prefix, QUESTION_WAIT_S))
                    question = next((r for r in results if r.status == AWAITING_CONFIRMATION), None)
                    reply = reply_to_question(pipeline, text, command, question)
                    if reply:
                        answer = pipeline.feed(make_clip(reply, voice, condition, speed, min_tail_s=QUESTION_WAIT_S))
                        results += answer
                        if any(r.status == ASK_AGAIN for r in answer):  # asked again: they say it again
                            results += pipeline.feed(make_clip(reply, voice, condition, speed, take=2))
                    results += pipeline.flush()
                heard = _best(results)
                if command:
                    correct = heard.status == OK and same(pipeline, heard.text, text)
                else:
                    correct = not any(r.status == OK for r in results)
                trial = Trial(text, voice, condition.name, command, heard, correct, reply)
                report.trials.append(trial)
                if log:
                    with open(log, "a") as f:
                        f.write(trial_json(trial) + "\n")
    report.seconds += time.perf_counter() - t0
    return report


def reply_to_question(pipeline: SpeechPipeline, text: str, command: bool, question: Recognition | None) -> str:
    """What the speaker says to "Did you say ...?": to their command, yes when the question is right and
    no when it is not; to a sentence that was no command, by turns nothing (they were not talking to
    the robot), "no", more talk (the next non-command sentence), or a short reply that is no answer
    ("excuse me", "hold on"), the last two what a forced yes would have to come from. No question, no
    answer. Asked again, a speaker says the same again."""
    if question is None:
        return ""
    if command:
        return "yes" if same(pipeline, question.text, text) else "no"
    turn = clip_seed(text)
    more_talk = NON_COMMANDS[(NON_COMMANDS.index(text) + 1) % len(NON_COMMANDS)] if text in NON_COMMANDS else "no"
    short = SHORT_NON_ANSWERS[(turn // 4) % len(SHORT_NON_ANSWERS)]
    return ("", "no", more_talk, short)[turn % 4]


def trial_json(t: Trial) -> str:
    return json.dumps({"said": t.said, "voice": t.voice, "condition": t.condition, "command": t.command,
                       "correct": t.correct, "reply": t.reply, **t.heard.to_dict()})


def hear(pipeline: SpeechPipeline, clip) -> list[Recognition]:
    return pipeline.feed(clip) + pipeline.flush()


def same(pipeline: SpeechPipeline, heard: str, said: str) -> bool:
    a, b = pipeline.grammar.parse(heard), pipeline.grammar.parse(said)
    return a is not None and b is not None and a.program == b.program


def _best(results: list[Recognition]) -> Recognition:
    """The utterance to score: the published one if any (a clip holds one command), else the first."""
    if not results:
        return Recognition("not_understood", "", 0.0, reason="no speech detected")
    return next((r for r in results if r.status == OK), results[0])


def make_pipeline(wake_phrase: str = "", **overrides: object) -> SpeechPipeline:
    """The speech node's default pipeline (overrides: any speech parameter by name)."""
    from vlm_ros.speech.builder import build_pipeline
    from vlm_ros.speech.config import from_flat

    return build_pipeline(from_flat({"wake_phrase": wake_phrase, **overrides}))


def _run_condition(job: tuple) -> Report:
    """One condition in a worker process (--jobs): its own pipeline, the same clips.

    Clips run in a seeded random order, commands and non-commands mixed, so a run stopped early
    (see --log) is a fair sample of the whole; clips already in the log are not decoded again.
    """
    wake, overrides, cmds, non_cmds, voice_list, condition, log = job
    pipeline = make_pipeline(wake, **overrides)
    clips = [(t, v, True) for t in cmds for v in voice_list] + [(t, v, False) for t in non_cmds for v in voice_list]
    random.Random(condition.name).shuffle(clips)
    done = _logged(log, condition.name)
    report = Report()
    for text, voice, command in clips:
        if (text, voice, command) not in done:
            run(pipeline, [text], [voice], [condition], command, report, prefix=wake if command else "", log=log)
    return report


def _logged(log: str, condition: str) -> set[tuple[str, str, bool]]:
    if not log or not os.path.isfile(log):
        return set()
    with open(log) as f:
        rows = [json.loads(line) for line in f if line.startswith("{")]
    return {(r["said"], r["voice"], r["command"]) for r in rows if r["condition"] == condition}


def evaluate(cmds: tuple[str, ...], non_cmds: tuple[str, ...], voice_list: list[str], conditions: list[Condition],
             wake_phrase: str = "", overrides: dict | None = None, jobs: int = 1, log: str = "") -> Report:
    """Every clip of the evaluation, one condition per process when jobs > 1; trials in condition order."""
    work = [(wake_phrase, overrides or {}, cmds, non_cmds, voice_list, c, log) for c in conditions]
    t0 = time.perf_counter()
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(jobs, len(work))) as pool:
            parts = list(pool.map(_run_condition, work))
    else:
        parts = [_run_condition(w) for w in work]
    return Report([t for part in parts for t in part.trials], time.perf_counter() - t0)


def rescore(lines: Iterable[str], min_confidence: float) -> Report:
    """A report re-decided at another min_confidence from `--json` output, without decoding again.

    Valid for runs made at a min_confidence at or below the new one (a trial only loses acceptance).
    Trials of a confirmation-turn run (`--confirm`) keep their recorded verdicts.
    """
    from vlm_ros.speech.grammar import CommandGrammar

    grammar, report = CommandGrammar.build(), Report()
    for line in lines:
        if not line.strip().startswith("{"):
            continue
        d = json.loads(line)
        if "reply" in d:  # a confirmation-turn run: the dialogue cannot be re-decided from its log; keep the verdict
            heard = Recognition(d["status"], d["text"], d["confidence"], d.get("program", ""), d.get("reason", ""))
            report.trials.append(Trial(d["said"], d["voice"], d["condition"], d["command"], heard, d["correct"],
                                       d["reply"]))
            continue
        accepted = d["status"] in (OK, "low_confidence") and d["confidence"] >= min_confidence
        heard = Recognition(OK if accepted else d["status"], d["text"], d["confidence"], d.get("program", ""))
        if d["command"]:
            a, b = grammar.parse(d["text"]), grammar.parse(d["said"])
            correct = accepted and a is not None and b is not None and a.program == b.program
        else:
            correct = not accepted
        report.trials.append(Trial(d["said"], d["voice"], d["condition"], d["command"], heard, correct))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vlm_ros.speech.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="espeak", help=f"comma-separated, from {', '.join(ENGINES)}")
    parser.add_argument("--noise", default="", help=f"conditions besides clean, e.g. {DEFAULT_NOISE}")
    parser.add_argument("--no-clean", action="store_true", help="leave out the clean condition (look at --noise only)")
    parser.add_argument("--commands", type=int, default=0,
                        help="use every k-th command only, plus go home / stop / open the gripper (0/1: all)")
    parser.add_argument("--non-commands", type=int, default=1, help="use every k-th non-command (0: none)")
    parser.add_argument("--wake-phrase", default="", help="speak commands after it and require it (e.g. robot)")
    parser.add_argument("--confirm", action="store_true", help="the confirmation turn: a command's speaker answers "
                        "the question yes when it is right and no when not; after a non-command: nothing, no, or more "
                        "talk, by turns")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a speech parameter, e.g. --set vad=energy (YAML value)")
    parser.add_argument("--jobs", type=int, default=1, help="conditions evaluated in parallel processes")
    parser.add_argument("--from-json", metavar="FILE", help="re-tabulate a --json run at --min-confidence "
                        "instead of decoding (the run's own min_confidence must be at or below it)")
    parser.add_argument("--min-confidence", type=float, default=None, help="override min_confidence")
    parser.add_argument("--json", action="store_true", help="print every trial as JSON lines")
    parser.add_argument("--log", default="", metavar="FILE", help="append every trial to FILE as it is scored")
    args = parser.parse_args(argv)
    import yaml

    if args.from_json:
        from vlm_ros.speech.config import DecisionConfig

        t = DecisionConfig().min_confidence if args.min_confidence is None else args.min_confidence
        with open(args.from_json) as f:
            report = rescore(f, t)
        print(f"{report.table()}\n\ncommand accuracy {report.accuracy():.1%} ({len(report.commands())} clips); "
              f"non-commands published {report.false_accept_rate():.2%} ({len(report.non_commands())} clips) "
              f"at min_confidence {t:g}")
        return 0

    engines = [e for e in args.engines.split(",") if e]
    missing = missing_engines(engines)
    if missing:
        print(f"skipping engines not installed: {', '.join(missing)} (see tools/setup_env.sh)", file=sys.stderr)
        engines = [e for e in engines if e not in missing]
    conditions = [] if args.no_clean else [Condition("clean")]
    conditions += [Condition.parse(c) for c in args.noise.split(",") if c]
    if not conditions:
        parser.error("--no-clean needs at least one --noise condition")
    overrides = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    if args.confirm:
        overrides["confirm"] = True
    if args.min_confidence is not None:
        overrides["min_confidence"] = args.min_confidence
    cmds = command_subset(args.commands)
    non_cmds = NON_COMMANDS[::args.non_commands] if args.non_commands else ()
    report = evaluate(cmds, non_cmds, voices(engines), conditions, args.wake_phrase, overrides, args.jobs, args.log)
    for t in report.trials if args.json else report.errors():
        print(trial_json(t) if args.json else f"{'MISS' if t.command else 'FALSE ACCEPT'} {t.voice} "
              f"{t.condition}: {t.said!r} -> {t.heard.text!r} ({t.heard.status}, {t.heard.confidence:.2f})")
    n, k = len(report.commands()), len(report.non_commands())
    print(f"\n{report.table()}\n", file=sys.stderr)
    print(f"command accuracy {report.accuracy():.1%} over {n} clips ({len(cmds)} commands × "
          f"{len(voices(engines))} voices × {len(conditions)} conditions); non-commands published "
          f"{report.false_accept_rate():.2%} ({k - sum(t.correct for t in report.non_commands())}/{k}); "
          f"{report.seconds:.0f} s" + (f"; wake phrase {args.wake_phrase!r}" if args.wake_phrase else "")
          + ("; confirmation turn" if args.confirm else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
