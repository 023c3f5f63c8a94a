"""Where exported ONNX files and built TensorRT engines live, how they are keyed, and how they are written.

Built artefacts are never committed: they go to `engines/cache/` in a source checkout (git-ignored)
or `~/.cache/vlm_ros/engines` in an installed package. Every file lands with an atomic
rename, so a node killed mid-build (or two nodes building at once) never leaves a truncated
engine that a later start would try to deserialize.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

CACHE_ENV = "VLM_ROS_ENGINE_CACHE"  # overrides the cache root, e.g. on a read-only install
_CHUNK = 1 << 20


def cache_root() -> Path:
    """`$VLM_ROS_ENGINE_CACHE`, else `<checkout>/engines/cache`, else `~/.cache/vlm_ros/engines`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "engines").is_dir() and os.access(checkout / "engines", os.W_OK):
        return checkout / "engines" / "cache"
    return Path.home() / ".cache" / "vlm_ros" / "engines"


def hash_files(paths: Iterable[Path], extra: str = "") -> str:
    """sha256 over (name, content) of each file, in sorted name order; `extra` is mixed in first."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def model_files(model_dir: Path) -> list[Path]:
    """The files whose content decides what an export produces (weights, configs, tokenizer)."""
    names = [p for p in Path(model_dir).iterdir() if p.is_file() and (
        p.suffix in {".json", ".txt"} or (p.suffix == ".safetensors" and p.name.startswith("model")))]
    if not names:
        raise FileNotFoundError(f"{model_dir} holds no model files (config.json, *.safetensors)")
    return names


def onnx_files(onnx_dir: Path) -> list[Path]:
    """The exported graphs plus their manifest (and external weight files, should a graph need them)."""
    return [p for p in Path(onnx_dir).iterdir() if p.is_file() and (p.suffix in {".onnx", ".data"}
                                                                     or p.name == "manifest.json")]


def engine_key(gpu_name: str, compute_capability: str, trt_version: str, onnx_hash: str, precision: str) -> str:
    """Key of an engine directory: a plan is only valid for this GPU model, SM version, TensorRT
    version and graph, so any change of them must miss the cache rather than fail to deserialize."""
    text = json.dumps([gpu_name, compute_capability, trt_version, onnx_hash, precision])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def timing_cache_name(gpu_name: str, compute_capability: str, trt_version: str) -> str:
    """Timing caches depend on the GPU and TensorRT, not on the graph, so models share one."""
    text = json.dumps([gpu_name, compute_capability, trt_version])
    return f"timing-{hashlib.sha256(text.encode()).hexdigest()[:16]}.cache"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path`.

    Readers see either the old file or the whole new one, never a prefix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def publish_dir(tmp_dir: Path, final_dir: Path, replace: bool = False) -> Path:
    """Rename a fully written directory into place.

    replace=False (caches keyed by content): if another process published first, keep theirs,
    since the same key means the same content, and drop ours. replace=True (an explicit
    `--out`): the old directory is moved aside, the new one renamed in, the old one deleted.
    """
    tmp_dir, final_dir = Path(tmp_dir), Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if replace and final_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.old.", dir=final_dir.parent))
        os.replace(final_dir, old / final_dir.name)
    try:
        os.replace(tmp_dir, final_dir)
    except OSError:
        if not final_dir.is_dir():
            raise
        shutil.rmtree(tmp_dir)
    if old is not None:
        shutil.rmtree(old)
    return final_dir
