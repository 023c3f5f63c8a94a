"""ONNX Runtime against PyTorch, scene by scene: the same plans, and logits within a tolerance.

Plans come from the two real grounders (the torch backend's own loop, this package's loop
over ONNX Runtime). Logits are compared teacher-forced: both runtimes are fed the torch
backend's tokens, so one early difference cannot hide or inflate all later ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vlm_ros.engines.decoding import choose_patch
from vlm_ros.engines.plans import POINT_ATOL, frame_points, plan_difference, plan_text
from vlm_ros.engines.runtime import Runtime

# float32 graphs run the same math in another kernel order: observed differences are ~1e-6.
LOGIT_ATOL = 1e-3  # next-token scores (log-probabilities) and pointer logits
OFFSET_ATOL = 1e-3  # pointer offsets, patch units (1e-3 patch = 0.008 model px)
# Next-token log-probs are compared where the reference's is above this (probability > 9e-4).
# A trained model's copy gate g is within ~1e-7 of 1, so (1 - g) * copy is a few ulps of 1 - g and
# differs between two kernel orders by ~1e-7 in probability: ~1e-7 / p in log-probability, i.e.
# 8e-4 at p = 1e-4 and ~0.1 at p = 4e-7 (observed on tabletop-tiny), on tokens no argmax ever
# sees. The tail's max is still reported.
LOGP_FLOOR = -7.0


@dataclass
class ParityReport:
    scenes: int = 0
    same_plans: int = 0  # same tokens and points within plans.POINT_ATOL
    max_point_diff: float = 0.0  # frame px, over scenes with the same tokens
    max_logit_diff: float = 0.0  # over next-token log-probs above LOGP_FLOOR, and pointer logits
    max_tail_diff: float = 0.0  # next-token log-probs at or below LOGP_FLOOR (reported, not checked)
    max_pointer_diff: float = 0.0
    max_offset_diff: float = 0.0
    steps: int = 0  # logits vectors compared
    argmax_agree: int = 0
    pointers: int = 0  # pointer outputs compared (one per `<loc>`)
    mismatches: list[str] = field(default_factory=list)  # first few differing plans

    @property
    def ok(self) -> bool:
        return (self.same_plans == self.scenes and self.max_logit_diff <= LOGIT_ATOL
                and self.max_pointer_diff <= LOGIT_ATOL and self.max_offset_diff <= OFFSET_ATOL)

    def summary(self) -> str:
        return (f"{self.same_plans}/{self.scenes} identical plans (same tokens, points within {POINT_ATOL} px; "
                f"max point diff {self.max_point_diff:.1e} px); next-token log-probs max |diff| "
                f"{self.max_logit_diff:.2e} (where > {LOGP_FLOOR:g}; tail {self.max_tail_diff:.1e}) over "
                f"{self.steps} steps (argmax agrees on {self.argmax_agree}), "
                f"pointer logits and patch-class log-probs {self.max_pointer_diff:.2e} over {self.pointers} "
                "`<loc>`s, "
                f"offsets {self.max_offset_diff:.2e} patch (tolerance {LOGIT_ATOL:g} / {OFFSET_ATOL:g}): "
                + ("PASS" if self.ok else "FAIL"))


def teacher_forced(runtime: Runtime, pixel_values: np.ndarray, prompt: list[int], tokens: list[int],
                   feedback: list[int] | None = None, patch_sets: list[list[int]] | None = None) -> tuple:
    """Logits after the prompt and after each token, (pointer logits, offsets) at each `<loc>`,
    and the feedback and offset patches used: given, or (None) the runtime's own choice (argmax
    patch and its 3x3 neighbours). Pick bans only change plans, which are compared separately."""
    d = runtime.dims
    runtime.encode_image(pixel_values)
    logits = [runtime.prefill(np.asarray(prompt, dtype=np.int64))]
    pointers, used, sets, pending = [], [], [], -1
    for i, token in enumerate(tokens):
        fb = feedback[i] if feedback is not None else pending
        used.append(fb)
        logits.append(runtime.step(token, fb))
        pending = -1
        if token == d.loc_token_id:
            scores = runtime.pointer_scores()
            _, best, neigh = choose_patch(scores, d.grid_size, [])
            neigh = patch_sets[len(sets)] if patch_sets is not None else neigh
            sets.append(neigh)
            pointers.append((scores, runtime.pointer_offsets(neigh)))
            pending = best
    return logits, pointers, used, sets


def compare(reference: Runtime, candidate: Runtime, pixel_values: np.ndarray, prompt: list[int],
            tokens: list[int], report: ParityReport) -> None:
    """Feed both runtimes the reference's tokens and the reference's pointer choices."""
    ref_logits, ref_ptr, feedback, sets = teacher_forced(reference, pixel_values, prompt, tokens)
    cand_logits, cand_ptr, _, _ = teacher_forced(candidate, pixel_values, prompt, tokens, feedback, sets)
    for a, b in zip(ref_logits, cand_logits):
        diff, head = np.abs(a - b), a > LOGP_FLOOR
        report.max_logit_diff = max(report.max_logit_diff, float(diff[head].max(initial=0.0)))
        report.max_tail_diff = max(report.max_tail_diff, float(diff[~head].max(initial=0.0)))
        report.steps += 1
        report.argmax_agree += int(a.argmax() == b.argmax())
    # the patch classifier (pointer prior, presence check), over the same request's image states
    class_diff = float(np.abs(reference.patch_log_probs() - candidate.patch_log_probs()).max())
    report.max_pointer_diff = max(report.max_pointer_diff, class_diff)
    for (la, oa), (lb, ob) in zip(ref_ptr, cand_ptr):
        report.pointers += 1
        report.max_pointer_diff = max(report.max_pointer_diff, float(np.abs(la - lb).max()))
        report.max_offset_diff = max(report.max_offset_diff, float(np.abs(oa - ob).max()))


def run_parity(model_path, onnx_dir, scenes, threads: int = 0, progress: bool = False) -> ParityReport:
    """Torch backend vs ONNX Runtime (CPU) on `scenes` (BenchScene list)."""
    from tqdm import tqdm

    from vlm_ros.engines.grounder import EngineGrounder
    from vlm_ros.engines.ort_runtime import OrtRuntime
    from vlm_ros.engines.runtime import TorchRuntime
    from vlm_ros.models.loading import load_pretrained
    from vlm_ros.models.tokenizer import SEP, split_words
    from vlm_ros.models.torch_grounder import TorchGrounder

    model, tokenizer, processor = load_pretrained(model_path)
    # float32 throughout: the torch backend's bfloat16 prefill (on CPUs with AVX512-BF16) is a
    # speed option, not the reference
    torch_grounder = TorchGrounder(model, tokenizer, processor, "reference", bf16_prefill=False)
    ort_runtime = OrtRuntime(onnx_dir, threads=threads)
    ort_grounder = EngineGrounder(ort_runtime, tokenizer, processor, "candidate")
    reference = TorchRuntime(model)
    report = ParityReport()
    for scene in tqdm(scenes, desc="parity", unit="scene", disable=not progress):
        height, width = scene.rgb.shape[:2]
        expected = torch_grounder.decode(scene.rgb, scene.instruction)
        got = ort_grounder.decode(scene.rgb, scene.instruction)
        diff = plan_difference(expected, got, frame_points(torch_grounder, expected, width, height),
                               frame_points(ort_grounder, got, width, height))
        report.scenes += 1
        report.same_plans += int(diff <= POINT_ATOL)
        if diff < float("inf"):
            report.max_point_diff = max(report.max_point_diff, diff)
        if not diff <= POINT_ATOL and len(report.mismatches) < 5:  # NaN points are a mismatch too
            a, b = plan_text(torch_grounder, expected, width, height), plan_text(ort_grounder, got, width, height)
            report.mismatches.append(f"seed {scene.seed} {scene.instruction!r}: torch {a!r} vs onnxruntime {b!r}")
        prompt = [*tokenizer.convert_tokens_to_ids(split_words(scene.instruction)), SEP]
        compare(reference, ort_runtime, processor(scene.rgb).numpy(), prompt, expected.token_ids, report)
    return report
