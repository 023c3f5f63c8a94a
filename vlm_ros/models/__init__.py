"""Model backends. `load_grounder` is the one entry point; heavy imports happen inside it."""

from __future__ import annotations

from pathlib import Path

from vlm_ros.core.errors import ModelLoadError

DEFAULT_WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "tabletop-tiny"
BACKENDS = ("torch", "onnxruntime", "tensorrt")


def load_grounder(path: str | Path = DEFAULT_WEIGHTS_PATH, backend: str = "torch", device: str = "cpu"):
    """A Grounder for the model saved at `path` (save_pretrained form). Raises ModelLoadError.

    torch: the PyTorch reference backend here; onnxruntime / tensorrt: vlm_ros.engines.
    """
    if backend == "torch":
        from vlm_ros.models.torch_grounder import TorchGrounder

        return TorchGrounder.from_pretrained(path, device=device)
    if backend in ("onnxruntime", "tensorrt"):
        try:
            from vlm_ros.engines import loaders
        except ImportError as error:
            raise ModelLoadError(f"Backend {backend!r} cannot load {path}: {error}") from None
        if backend == "onnxruntime":
            return loaders.load_onnxruntime_grounder(path, device=device)
        return loaders.load_tensorrt_grounder(path, device="cuda" if device == "cpu" else device)
    raise ModelLoadError(f"Backend {backend!r} cannot load {path}; known backends: {', '.join(BACKENDS)}.")


__all__ = ["BACKENDS", "DEFAULT_WEIGHTS_PATH", "ModelLoadError", "load_grounder"]
