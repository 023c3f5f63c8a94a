"""Build the grounder the node's parameters ask for, falling back in the design's order."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.grounding.base import Grounder

if TYPE_CHECKING:
    from vlm_ros.remote.client import RemoteConfig

AUTO_ORDER = ("tensorrt", "onnxruntime", "torch")
log = logging.getLogger(__name__)


def make_grounder(backend: str, model_path: str = "", device: str = "cpu", test_program: str = "",
                  remote: RemoteConfig | None = None, fallback_backend: str = "", **family_options) -> Grounder:
    """`test-fixed` is for plumbing tests only, `oracle` for benchmarks in the sim; `auto` takes
    the first real backend that loads.

    Each backend that is skipped is logged with its reason, so an integrator sees why a
    Jetson ran ONNX Runtime instead of TensorRT. `family_options` (model_family, dtype,
    oracle_format, max_new_tokens, planning) configure the pretrained VLM families (vlm_ros.grounding.families_factory).
    """
    if backend == "test-fixed":
        from vlm_ros.grounding.test_backend import FixedProgramTestGrounder

        return FixedProgramTestGrounder(test_program)
    if backend == "oracle":
        from vlm_ros.grounding.oracle import OracleGrounder

        return OracleGrounder(family_options.get("oracle_format", ""), family_options.get("planning", "per_phrase"))
    if backend == "remote":  # an OpenAI-compatible server; fallback_backend grounds locally when it fails
        from vlm_ros.remote.client import RemoteConfig
        from vlm_ros.remote.factory import make_remote_grounder

        return make_remote_grounder(remote or RemoteConfig(), fallback_backend,
                                    lambda local: make_grounder(local, model_path, device, test_program,
                                                                **family_options))
    from vlm_ros.grounding.families_factory import wants_transformers

    if wants_transformers(backend, model_path, family_options):
        from vlm_ros.grounding.families_factory import make_family_grounder

        return make_family_grounder(model_path, device, family_options)
    from vlm_ros.models import DEFAULT_WEIGHTS_PATH, load_grounder

    path = model_path or str(DEFAULT_WEIGHTS_PATH)
    if backend != "auto":
        return load_grounder(path, backend=backend, device=device)
    reasons = []
    for candidate in AUTO_ORDER:
        try:
            grounder = load_grounder(path, backend=candidate, device=device)
        except Exception as error:  # every failure is a reason to fall back, reported below
            reasons.append(f"{candidate}: {error}")
            log.warning("backend %s unavailable, falling back: %s", candidate, error)
            continue
        if reasons:
            log.warning("using backend %s (skipped: %s)", candidate, "; ".join(reasons))
        return grounder
    raise ModelLoadError("no backend could load the model at " + path + ": " + "; ".join(reasons))
