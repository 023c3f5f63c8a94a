"""Export TabletopVlm to ONNX graphs plus `manifest.json` (see graphs.py for how it is split).

Exports go to a temporary directory and are renamed into place when complete, so a
half-written export is never picked up by a loader.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
import warnings
from pathlib import Path

import torch

from vlm_ros.engines import graphs
from vlm_ros.engines.cache import cache_root, hash_files, model_files, publish_dir
from vlm_ros.engines.graphs import (
    CopyKeysGraph,
    DecoderGraph,
    EmbedGraph,
    PointerKeysGraph,
    PointerOffsetsGraph,
    PointerScoresGraph,
    TokenScoresGraph,
    VisionGraph,
    empty_past,
    kv_names,
)
from vlm_ros.engines.manifest import FORMAT, GraphSpec, Manifest, ModelDims, TensorSpec
from vlm_ros.models.tabletop_vlm import TabletopVlm

OPSET = 17  # LayerNormalization is a single op from 17; TensorRT 8.6+ and ONNX Runtime read it
DTYPES = {"float32": torch.float32, "float16": torch.float16}
log = logging.getLogger(__name__)


def model_dims(model: TabletopVlm) -> ModelDims:
    cfg, text = model.config, model.config.text_config
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    return ModelDims(
        image_size=cfg.vision_config.image_size, patch_size=cfg.vision_config.patch_size,
        num_patches=cfg.num_patches, hidden_size=text.hidden_size, num_layers=text.num_hidden_layers,
        num_kv_heads=text.num_key_value_heads, head_dim=head_dim, vocab_size=text.vocab_size,
        max_positions=text.max_position_embeddings, loc_token_id=cfg.loc_token_id, sep_token_id=cfg.sep_token_id,
        eos_token_id=cfg.eos_token_id, max_program_tokens=cfg.max_program_tokens, pointer_dim=cfg.pointer_dim,
        offset_hidden=cfg.offset_hidden, copy_dim=model.copy_head.query.out_features,
        num_patch_classes=model.patch_classifier.out_features,
        presence_threshold=float(getattr(cfg, "presence_threshold", 0.0) or 0.0),
        bowl_presence_threshold=float(getattr(cfg, "bowl_presence_threshold", 0.0) or 0.0),
        refusal_overrule_threshold=float(getattr(cfg, "refusal_overrule_threshold", 0.0) or 0.0),
    )


def graph_specs(d: ModelDims, dtype: str) -> dict[str, GraphSpec]:
    """Names, shapes and dtypes of every graph's inputs and outputs (strings are dynamic axes)."""
    past = [TensorSpec(n, [1, d.num_kv_heads, "past", d.head_dim], dtype) for n in kv_names(d.num_layers, "past")]
    present = [TensorSpec(n, [1, d.num_kv_heads, "total", d.head_dim], dtype)
               for n in kv_names(d.num_layers, "present")]
    return {
        "vision": GraphSpec("vision.onnx",
                            [TensorSpec("pixel_values", ["batch", 3, d.image_size, d.image_size], dtype)],
                            [TensorSpec("image_embeds", ["batch", d.num_patches, d.hidden_size], dtype)]),
        "embed": GraphSpec("embed.onnx", [TensorSpec("input_ids", ["batch", "tokens"], "int64"),
                                          TensorSpec("feedback", ["batch", "tokens"], "int64")],
                           [TensorSpec("inputs_embeds", ["batch", "tokens", d.hidden_size], dtype)]),
        "decoder": GraphSpec("decoder.onnx", [TensorSpec("inputs_embeds", [1, "tokens", d.hidden_size], dtype), *past],
                             [TensorSpec("hidden", [1, "tokens", d.hidden_size], dtype), *present]),
        "copy_keys": GraphSpec("copy_keys.onnx", [TensorSpec("instr_states", [1, "words", d.hidden_size], dtype)],
                               [TensorSpec("copy_keys", [1, "words", d.copy_dim], dtype)]),
        "token_scores": GraphSpec("token_scores.onnx",
                                  [TensorSpec("state", [1, 1, d.hidden_size], dtype),
                                   TensorSpec("copy_keys", [1, "words", d.copy_dim], dtype),
                                   TensorSpec("instr_ids", [1, "words"], "int64"),
                                   TensorSpec("instr_mask", [1, "words"], "float32")],
                                  [TensorSpec("log_probs", [1, d.vocab_size], "float32")]),
        "pointer_keys": GraphSpec("pointer_keys.onnx",
                                  [TensorSpec("image_states", ["batch", d.num_patches, d.hidden_size], dtype)],
                                  [TensorSpec("keys", ["batch", d.num_patches, d.pointer_dim], dtype),
                                   TensorSpec("offset_keys", ["batch", d.num_patches, d.offset_hidden], dtype),
                                   TensorSpec("patch_log_probs", ["batch", d.num_patches, d.num_patch_classes],
                                              "float32")]),
        "pointer_scores": GraphSpec("pointer_scores.onnx",
                                    [TensorSpec("loc_states", ["batch", "locs", d.hidden_size], dtype),
                                     TensorSpec("keys", ["batch", d.num_patches, d.pointer_dim], dtype)],
                                    [TensorSpec("pointer_logits", ["batch", "locs", d.num_patches], dtype)]),
        "pointer_offsets": GraphSpec("pointer_offsets.onnx",
                                     [TensorSpec("loc_states", ["batch", "locs", d.hidden_size], dtype),
                                      TensorSpec("offset_keys", ["batch", d.num_patches, d.offset_hidden], dtype),
                                      TensorSpec("patches", ["batch", "locs", "picked"], "int64")],
                                     [TensorSpec("offsets", ["batch", "locs", "picked", 2], dtype)]),
    }


def _sample_inputs(name: str, model: TabletopVlm, d: ModelDims, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """Trace inputs with every dynamic axis > 1 and distinct, so no axis is specialised away."""
    g = torch.Generator().manual_seed(0)
    if name == "vision":
        return (torch.randn(2, 3, d.image_size, d.image_size, generator=g, dtype=dtype),)
    if name == "embed":
        ids = torch.randint(0, d.vocab_size, (2, 5), generator=g)
        return ids, torch.tensor([[-1, 3, -1, -1, 0], [-1, -1, 1, -1, -1]])
    if name == "decoder":
        return (torch.randn(1, 5, d.hidden_size, generator=g, dtype=dtype), *empty_past(model, 3, dtype))
    if name == "copy_keys":
        return (torch.randn(1, 4, d.hidden_size, generator=g, dtype=dtype),)
    if name == "token_scores":
        return (torch.randn(1, 1, d.hidden_size, generator=g, dtype=dtype),
                torch.randn(1, 4, d.copy_dim, generator=g, dtype=dtype),
                torch.randint(0, d.vocab_size, (1, 4), generator=g), torch.tensor([[1.0, 1.0, 1.0, 0.0]]))
    locs = torch.randn(2, 3, d.hidden_size, generator=g, dtype=dtype)
    if name == "pointer_keys":
        return (torch.randn(2, d.num_patches, d.hidden_size, generator=g, dtype=dtype),)
    if name == "pointer_scores":
        return locs, torch.randn(2, d.num_patches, d.pointer_dim, generator=g, dtype=dtype)
    return (locs, torch.randn(2, d.num_patches, d.offset_hidden, generator=g, dtype=dtype),
            torch.randint(0, d.num_patches, (2, 3, 4), generator=g))


def _modules(model: TabletopVlm) -> dict[str, torch.nn.Module]:
    return {"vision": VisionGraph(model), "embed": EmbedGraph(model), "decoder": DecoderGraph(model),
            "copy_keys": CopyKeysGraph(model), "token_scores": TokenScoresGraph(model),
            "pointer_keys": PointerKeysGraph(model), "pointer_scores": PointerScoresGraph(model),
            "pointer_offsets": PointerOffsetsGraph(model)}


def export_model(model: TabletopVlm, out_dir: Path, model_name: str, model_hash: str, dtype: str = "float32",
                 progress: bool = True, replace: bool = True) -> Manifest:
    """Write the graphs (manifest.GRAPHS) and manifest.json into `out_dir`.

    replace=True swaps a previous export out whole; replace=False (the cache) keeps a directory
    that a concurrent process finished first.
    """
    import onnx
    from tqdm import tqdm

    torch_dtype = DTYPES[dtype]
    model = model.eval().to(torch_dtype)
    dims = model_dims(model)
    specs = graph_specs(dims, dtype)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    modules = _modules(model)
    with tqdm(total=len(specs), desc="export onnx", unit="graph", disable=not progress) as bar:
        for name, spec in specs.items():
            bar.set_postfix_str(name)
            axes = {t.name: {i: s for i, s in enumerate(t.shape) if isinstance(s, str)}
                    for t in spec.inputs + spec.outputs}
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
                torch.onnx.export(modules[name], _sample_inputs(name, model, dims, torch_dtype), str(tmp / spec.file),
                                  dynamo=False, opset_version=OPSET, input_names=[t.name for t in spec.inputs],
                                  output_names=[t.name for t in spec.outputs], dynamic_axes=axes,
                                  do_constant_folding=True)
            onnx.checker.check_model(str(tmp / spec.file))
            bar.update()
    versions = {"torch": torch.__version__, "onnx": onnx.__version__}
    manifest = Manifest(model_name, model_hash, dtype, OPSET, dims, specs, versions=versions)
    manifest.save(tmp)
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache is shared with other users of the checkout
    publish_dir(tmp, out_dir, replace)
    return manifest


def load_torch_model(model_path: Path) -> TabletopVlm:
    """The saved model in eval mode on CPU (ModelLoadError names a missing or broken file)."""
    from vlm_ros.models.loading import load_pretrained

    return load_pretrained(model_path)[0]


def model_hash(model_path: Path, dtype: str = "float32") -> str:
    """Model files + export settings + the graph code: a change to any of them is a new export."""
    graph_code = hashlib.sha256(Path(graphs.__file__).read_bytes()).hexdigest()
    return hash_files(model_files(Path(model_path)),
                      extra=f"onnx-format-{FORMAT}-{dtype}-opset-{OPSET}-{graph_code}")[:12]


def default_onnx_dir(model_path: Path, dtype: str = "float32") -> Path:
    """`<cache>/onnx/<model name>-<hash>[-fp16]/`: a new model or export format gets a new directory."""
    model_path = Path(model_path).resolve()
    suffix = "" if dtype == "float32" else "-fp16"
    return cache_root() / "onnx" / f"{model_path.name}-{model_hash(model_path, dtype)}{suffix}"


def export_path(model_path: Path, out_dir: Path | None = None, dtype: str = "float32",
                progress: bool = True, replace: bool = True) -> Manifest:
    """Load the model at `model_path` and export it (to the default cache directory without `out_dir`)."""
    out_dir = Path(out_dir) if out_dir else default_onnx_dir(model_path, dtype)
    model = load_torch_model(model_path)
    return export_model(model, out_dir, Path(model_path).resolve().name, model_hash(model_path, dtype), dtype,
                        progress, replace)


def ensure_onnx(model_path: Path, dtype: str = "float32") -> Path:
    """The default ONNX directory for `model_path`, exported first if it is not there yet."""
    out_dir = default_onnx_dir(model_path, dtype)
    if not (out_dir / "manifest.json").is_file():
        start = time.perf_counter()
        log.warning("no ONNX export of %s yet: exporting to %s", model_path, out_dir)
        export_path(model_path, out_dir, dtype, progress=False, replace=False)
        log.warning("exported %s in %.1f s", out_dir.name, time.perf_counter() - start)
    return out_dir
