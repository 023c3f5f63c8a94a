"""Load the grounder a serve replica hosts, and run a batch of requests through it.

Batching: requests that arrive together are decoded from JPEG/PNG and handed over as one
batch; a grounder with `ground_batch(items)` runs them in one call (one batched forward
pass), any other grounder runs them one after the other on the replica's worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from vlm_ros.core.errors import GroundingRefusal, InputError, ModelOutputError, VlmRosError
from vlm_ros.grounding.base import Grounder
from vlm_ros.serve.protocol import GroundRequest


@dataclass(frozen=True)
class GrounderSpec:
    backend: str = "onnxruntime"  # any make_grounder backend except remote
    model_path: str = ""  # "" : the shipped tabletop-tiny model
    device: str = "cpu"
    threads: int = 1  # intra-op threads per replica (onnxruntime, torch); 0: the library's default


def load_grounder_for_serving(spec: GrounderSpec) -> Grounder:
    """Like the node's factory, with a thread count per replica so N replicas share the cores."""
    if spec.backend == "remote":
        raise InputError("vlm-ros serve hosts a local backend; remote would call itself.")
    if spec.backend == "onnxruntime":
        from vlm_ros.engines.loaders import load_onnxruntime_grounder
        from vlm_ros.models import DEFAULT_WEIGHTS_PATH

        return load_onnxruntime_grounder(spec.model_path or DEFAULT_WEIGHTS_PATH, device=spec.device,
                                         threads=spec.threads)
    if spec.backend in ("torch", "auto") and spec.threads > 0:
        import torch

        torch.set_num_threads(spec.threads)
    from vlm_ros.grounding.factory import make_grounder

    return make_grounder(spec.backend, spec.model_path, spec.device)


@dataclass
class Outcome:
    """One request's answer: the raw program text, or an HTTP status and message."""

    content: str = ""
    status: int = 200
    error: str = ""


def ground_one(grounder: Grounder, request: GroundRequest) -> Outcome:
    try:
        return Outcome(grounder.ground(request.decode_rgb(), request.instruction).raw_output)
    except InputError as error:
        return Outcome(status=400, error=str(error))
    except ModelOutputError as error:  # the model ran; its output was not a program
        return Outcome(status=422, error=f"The model's output could not be understood: {error}")
    except GroundingRefusal as error:
        return Outcome(status=422, error=str(error))
    except VlmRosError as error:
        return Outcome(status=500, error=str(error))
    except Exception as error:  # a bug costs one request, never the replica
        return Outcome(status=500, error=f"Internal error while grounding: {type(error).__name__}: {error}")


def ground_batch(grounder: Grounder, requests: list[GroundRequest]) -> list[Outcome]:
    batched = getattr(grounder, "ground_batch", None)
    if batched is not None and len(requests) > 1:
        try:
            results = batched([(r.rgb, r.instruction) for r in requests])
            return [r if isinstance(r, Outcome) else Outcome(r.raw_output) for r in results]
        except Exception:
            pass
    return [ground_one(grounder, r) for r in requests]
