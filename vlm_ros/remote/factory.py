"""Build the `remote` backend from node parameters, with its optional local fallback."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vlm_ros.core.errors import ModelLoadError
from vlm_ros.grounding.base import Grounder
from vlm_ros.remote.client import RemoteConfig, RemoteGrounder
from vlm_ros.remote.fallback import FallbackGrounder


def remote_config(params: Mapping[str, Any]) -> RemoteConfig:
    """RemoteConfig from the grounding node's parameters (names as in vlm_ros/ros/parameters.py)."""
    return RemoteConfig(url=params["remote_url"], model=params["remote_model"],
                        family=params.get("model_family") or "vlm_ros", api_key_env=params["remote_api_key_env"],
                        timeout_s=float(params["remote_timeout_s"]), retries=int(params["remote_retries"]),
                        jpeg_quality=int(params["remote_jpeg_quality"]), max_side=int(params["remote_max_side"]))


def make_remote_grounder(config: RemoteConfig, fallback_backend: str = "",
                         load_local: Callable[[str], Grounder] | None = None) -> Grounder:
    """RemoteGrounder, wrapped in a FallbackGrounder when `fallback_backend` names a local backend
    (loaded now by `load_local(backend)`, so a broken fallback is a load error at start)."""
    if not config.url:
        raise ModelLoadError("backend remote needs remote_url (e.g. http://gpu-box:8000/v1).")
    remote = RemoteGrounder(config)
    if not fallback_backend:
        return remote
    if fallback_backend == "remote":
        raise ModelLoadError("fallback_backend cannot be remote itself; name a local backend (e.g. onnxruntime).")
    if load_local is None:
        raise ModelLoadError("fallback_backend is set but no local loader was given.")
    return FallbackGrounder(remote, load_local(fallback_backend), fallback_backend)
