"""The runtime interface the one greedy loop drives (`vlm_ros.models.runtime`), as the engines see it.

`TorchRuntime` here is the PyTorch runtime with the full `ModelDims` of an export (the engine
grounder reads the presence thresholds from them): the reference the other runtimes are compared
with, step by step, in the parity checks.
"""

from __future__ import annotations

from vlm_ros.engines.manifest import ModelDims
from vlm_ros.models.runtime import Runtime
from vlm_ros.models.torch_runtime import TorchRuntime as _TorchRuntime

__all__ = ["ModelDims", "Runtime", "TorchRuntime"]


class TorchRuntime(_TorchRuntime):
    """The PyTorch model behind the Runtime interface (reference for parity), with ModelDims."""

    def __init__(self, model, device: str = "cpu", use_cache: bool = True, bf16: bool = False):
        from vlm_ros.engines.export import model_dims

        super().__init__(model, device, use_cache=use_cache, bf16=bf16)
        self.dims: ModelDims = model_dims(model)
