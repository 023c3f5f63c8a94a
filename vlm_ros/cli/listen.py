"""`vlm-ros listen`: recognise spoken commands in a WAV file (or from a microphone), no ROS graph needed.

Prints each recognised instruction on its own line; with --json one object per utterance:
{"text", "confidence", "status", "program", "reason", ...}. Exit status 0 when at least one
instruction was recognised, 1 when nothing usable was heard, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from vlm_ros.speech.config import DecisionConfig, EndpointConfig, RecognizerConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    d, r, e = DecisionConfig(), RecognizerConfig(), EndpointConfig()
    p = subparsers.add_parser("listen", help="recognise spoken commands in a WAV file or from a microphone",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", metavar="FILE", help="WAV file (integer PCM, any rate, any channels)")
    src.add_argument("--mic", action="store_true", help="listen to the microphone until Ctrl-C")
    src.add_argument("--list-devices", action="store_true", help="list audio input devices and exit")
    p.add_argument("--device", default="", help="microphone index or part of its name (default: system default)")
    p.add_argument("--json", action="store_true", help="print one JSON object per utterance")
    p.add_argument("--backend", default=r.backend, choices=("pocketsphinx", "whisper"))
    p.add_argument("--model-path", default=r.model_path, help="whisper model directory / pocketsphinx hmm")
    p.add_argument("--grammar", default=r.grammar_path, help="JSGF grammar file (default: generated)")
    p.add_argument("--min-confidence", type=float, default=d.min_confidence)
    p.add_argument("--no-grammar-check", action="store_true",
                   help="publish any confident text, in the grammar or not (whisper)")
    p.add_argument("--vocabulary", default=r.object_vocabulary_file,
                   help="object vocabulary file, one object per line (open-vocabulary grammar)")
    p.add_argument("--wake-phrase", default="", help="only commands that start with it count (e.g. robot)")
    p.add_argument("--confirm", action="store_true",
                   help="confirmation turn: a command counts only when a yes follows it (in the file or on the mic)")
    p.add_argument("--vad", default=e.vad, choices=("silero", "energy", "webrtc"))
    p.add_argument("--end-silence-ms", type=float, default=e.end_silence_ms)
    p.add_argument("--all", action="store_true", help="also print utterances that were not understood")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vlm_ros.core.errors import VlmRosError

    if args.list_devices:
        return _list_devices()
    try:
        pipeline = _make_pipeline(args)
        if args.wav:
            return _listen_wav(pipeline, args)
        return _listen_mic(pipeline, args)
    except VlmRosError as exc:
        print(f"vlm-ros listen: {exc}", file=sys.stderr)
        return 2


def _make_pipeline(args: argparse.Namespace):
    from vlm_ros.speech.builder import build_pipeline
    from vlm_ros.speech.config import from_flat

    return build_pipeline(from_flat({
        "backend": args.backend, "model_path": args.model_path, "grammar_path": args.grammar,
        "object_vocabulary_file": args.vocabulary, "wake_phrase": args.wake_phrase,
        "min_confidence": args.min_confidence, "require_grammar": not args.no_grammar_check,
        "vad": args.vad, "end_silence_ms": args.end_silence_ms, "confirm": args.confirm}))


def _print(rec, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(rec.to_dict()), flush=True)
    elif rec.instruction is not None:
        print(rec.instruction, flush=True)
    else:
        print(f"({rec.status}: {rec.reason})", file=sys.stderr, flush=True)


def _listen_wav(pipeline, args: argparse.Namespace) -> int:
    from vlm_ros.speech.pipeline import nothing_heard
    from vlm_ros.speech.sources import wav_chunks

    results = []
    for chunk in wav_chunks(args.wav):
        results += pipeline.feed(chunk)
    results += pipeline.flush()
    heard = [r for r in results if r.instruction is not None]
    shown = results if args.all else heard
    if not shown:  # nothing usable: one object that says why
        shown = [results[0] if results else nothing_heard(backend=pipeline.recognizer.name)]
    for rec in shown:
        _print(rec, args)
    return 0 if heard else 1


def _listen_mic(pipeline, args: argparse.Namespace) -> int:
    from vlm_ros.speech.pipeline import ASK_AGAIN, AWAITING_CONFIRMATION
    from vlm_ros.speech.prompts import prompt_for
    from vlm_ros.speech.sources import Microphone

    heard = 0
    print("listening (Ctrl-C to stop) ...", file=sys.stderr, flush=True)
    try:
        with Microphone(args.device, 16000) as mic:
            while True:
                chunk = mic.read()
                for rec in pipeline.feed(chunk) if chunk is not None else []:
                    heard += rec.instruction is not None
                    if rec.instruction is not None or args.all or args.json:
                        _print(rec, args)
                    elif rec.status in (AWAITING_CONFIRMATION, ASK_AGAIN):  # the question, as the node asks it
                        print(prompt_for(rec), file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    return 0 if heard else 1


def _list_devices() -> int:
    from vlm_ros.speech.sources import AudioDeviceError, list_input_devices

    try:
        devices = list_input_devices()
    except AudioDeviceError as exc:
        print(f"vlm-ros listen: {exc}", file=sys.stderr)
        return 2
    for index, name, channels in devices:
        print(f"{index}: {name} ({channels} ch)")
    if not devices:
        print("no audio input devices", file=sys.stderr)
    return 0 if devices else 1
