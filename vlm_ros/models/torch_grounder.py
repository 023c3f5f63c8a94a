"""PyTorch backend of the default model: image + instruction -> program with frame pixels."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vlm_ros.core.errors import ModelOutputError
from vlm_ros.core.vocabulary import ALL_OF_A_COLOR_WORDS
from vlm_ros.grounding.base import GroundingResult
from vlm_ros.grounding.labels import TABLETOP_VOCABULARY
from vlm_ros.grounding.program import Program, parse_program
from vlm_ros.models.decoding import DecodedProgram, decode_program
from vlm_ros.models.processor import ImageProcessor
from vlm_ros.models.tabletop_vlm import TabletopVlm
from vlm_ros.models.tokenizer import LOC, SEP, split_words
from vlm_ros.models.torch_runtime import TorchRuntime
from vlm_ros.models.verify import presence_score, unpicked_object, verify_program


def program_text(words: list[str], points: list[tuple[float, float]]) -> str:
    """['pick', 'red', 'block', '<loc>', ...] + frame points -> 'pick(red block) @ (u, v) ; ...'."""
    if words[:1] == ["refuse"]:
        return f"refuse({' '.join(words[1:])})"
    steps, current, it = [], [], iter(points)
    for w in words:
        if w == "<loc>":
            if not current:
                raise ModelOutputError(f"a location with no step before it in {' '.join(words)!r}")
            u, v = next(it)
            steps.append(f"{current[0]}({' '.join(current[1:])}) @ ({u:.1f}, {v:.1f})")
            current = []
        else:
            current.append(w)
    if current:
        raise ModelOutputError(f"step {' '.join(current)!r} has no location")
    return " ; ".join(steps)


def cpu_has_bf16() -> bool:
    """True on x86 CPUs with AVX512-BF16 or AMX (Linux /proc/cpuinfo)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


class TorchGrounder:
    """Implements vlm_ros.grounding.base.Grounder with the PyTorch reference backend."""

    vocabulary = TABLETOP_VOCABULARY  # the closed world it is trained on

    def __init__(self, model: TabletopVlm, tokenizer, processor: ImageProcessor, model_id: str,
                 device: str = "cpu", use_cache: bool = True, bf16_prefill: bool | None = None,
                 presence_threshold: float | None = None):
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.processor = processor
        self.model_id = model_id
        self.device = torch.device(device)
        self.use_cache = use_cache
        self._pick_id = tokenizer.convert_tokens_to_ids("pick")
        self._words = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        if bf16_prefill is None:  # default: where the CPU has native bfloat16 matrix instructions
            bf16_prefill = self.device.type == "cpu" and cpu_has_bf16()
        self.bf16_prefill = bf16_prefill
        # objects the patch classifier sees nowhere above this probability are refused (0: off)
        self.presence_threshold = (model.config.presence_threshold if presence_threshold is None
                                   else presence_threshold)
        self.bowl_presence_threshold = model.config.bowl_presence_threshold  # 0: presence_threshold
        self.refusal_overrule_threshold = model.config.refusal_overrule_threshold  # 0: off
        self.grid_size, self.patch_size = model.config.grid_size, model.config.vision_config.patch_size

    def on_eos_callback(self, instruction_words: list[str] = ()) -> Callable[[DecodedProgram], list[int] | None]:
        """A fresh end-of-program callback for one decode (every backend's loop takes it): for a
        program that picks one label several times, or once where the instruction asks for all of
        a colour, add a step pair for an object of that label the patch classifier sees and no pick
        has taken yet (at most two pairs per program). The decoder often ends "all the red blocks"
        after the first block; the classifier, which sees every block, finishes the count."""
        budget = [2]
        asks_for_all = not ALL_OF_A_COLOR_WORDS.isdisjoint(instruction_words)

        def on_eos(out: DecodedProgram) -> list[int] | None:
            if self.presence_threshold <= 0 or budget[0] <= 0 or out.class_probs is None:
                return None
            found = unpicked_object(self.tokenizer.convert_ids_to_tokens(out.token_ids), out.points,
                                    out.class_probs, self.grid_size, self.patch_size, threshold=0.5, radius=1.5,
                                    asks_for_all=asks_for_all)
            if found is None:
                return None
            budget[0] -= 1
            label, place = found
            return self.tokenizer.convert_tokens_to_ids(["pick", *label.split(), "<loc>", "place", *place.split(),
                                                         "<loc>"])

        return on_eos

    def request(self, instruction: str) -> tuple[list[int], Callable[[DecodedProgram], list[int] | None]]:
        """What every backend's loop gets for one instruction: the prompt ids (its words, then
        `<sep>`) and a fresh end-of-program callback that knows whether it asks for all of a colour."""
        words = split_words(instruction)
        return [*self.tokenizer.convert_tokens_to_ids(words), SEP], self.on_eos_callback(words)

    def decode(self, rgb: np.ndarray, instruction: str, timings: dict[str, float] | None = None,
               allow_refusal: bool = True) -> DecodedProgram:
        pixel_values = self.processor(rgb).to(self.device)  # [1, 3, S, S]
        prompt, on_eos = self.request(instruction)
        runtime = TorchRuntime(self.model, self.device, use_cache=self.use_cache, bf16=self.bf16_prefill)
        return decode_program(runtime, pixel_values, prompt, on_eos=on_eos, pick_token_id=self._pick_id,
                              timings=timings, words=self._words, allow_refusal=allow_refusal)

    def refusal_overruled(self, words: list[str], out: DecodedProgram) -> bool:
        """A refusal of an object the patch classifier clearly sees is the decoder misreading the
        sentence (a phrasing it rarely saw), not a missing object: the presence check that turns
        programs into refusals also overrules refusals, at a stricter threshold."""
        if self.refusal_overrule_threshold <= 0 or words[:1] != ["refuse"] or out.class_probs is None:
            return False
        label = " ".join(words[1:])
        return presence_score(label, out.class_probs, self.grid_size) >= self.refusal_overrule_threshold

    def decode_checked(self, rgb: np.ndarray, instruction: str,
                       timings: dict[str, float] | None = None) -> tuple[DecodedProgram, list[str]]:
        """decode(), then once more without `refuse` when the refusal is overruled -> (program, words)."""
        out = self.decode(rgb, instruction, timings)
        words = self.tokenizer.convert_ids_to_tokens(out.token_ids)
        if self.refusal_overruled(words, out):
            again: dict[str, float] = {}
            out = self.decode(rgb, instruction, again, allow_refusal=False)
            words = self.tokenizer.convert_ids_to_tokens(out.token_ids)
            if timings is not None:
                for stage, ms in again.items():
                    timings[stage] = timings.get(stage, 0.0) + ms
        return out, words

    def ground(self, rgb: np.ndarray, instruction: str) -> GroundingResult:
        t0 = time.perf_counter()
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ModelOutputError(f"expected an [H, W, 3] uint8 image, got {rgb.shape} {rgb.dtype}")
        timings: dict[str, float] = {}
        height, width = rgb.shape[:2]
        out, words = self.decode_checked(rgb, instruction, timings)
        t1 = time.perf_counter()
        pre = (t1 - t0) * 1e3 - sum(timings.values())
        points = [self.processor.model_to_frame(x, y, width, height) for x, y in out.points]
        if self.presence_threshold > 0 and out.class_probs is not None:
            words, kept = verify_program(words, out.patches, out.class_probs, self.grid_size,
                                         self.presence_threshold, out.points, same_radius=6.0,
                                         bowl_threshold=self.bowl_presence_threshold)
            points = [points[i] for i in kept]
            out.confidences = [out.confidences[i] for i in kept]
        raw = program_text(words, points) if words else ""
        program: Program = parse_program(raw)
        confidences = iter(out.confidences)
        for step in program.steps:
            step.confidence = next(confidences, 1.0)
        latency = {"preprocess": max(pre, 0.0), **timings}
        return GroundingResult(program=program, raw_output=raw, latency_ms=latency,
                               preprocess=self.processor.describe(width, height))

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu") -> TorchGrounder:
        from vlm_ros.models.loading import load_pretrained

        model, tokenizer, processor = load_pretrained(path)
        return cls(model, tokenizer, processor, model_id=f"tabletop-vlm:{Path(path).name}", device=device)


__all__ = ["LOC", "TorchGrounder", "program_text"]
