"""How one embedding model must be called (``ModelSpec``) and what runs it: a leaf module, so the backends and the
offline builds can name a spec without importing the registry that lists the known models (which imports the
builds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BACKEND_SENTENCE_TRANSFORMERS = "sentence-transformers"
BACKEND_ONNX_FP32 = "onnx-fp32"
BACKEND_ONNX_INT8 = "onnx-int8"


@dataclass(frozen=True)
class ModelSpec:
    """How to call one model.

    `name` is what an index manifest records. `normalize` is False only for models scored by raw dot product
    (none of the known ones). `max_seq_length` caps tokens per text (None keeps the model's own limit).
    `offline_builder` builds the model folder locally and returns its path, for models that ship in PyPI
    packages rather than on a hub. `backend` says what runs it: sentence-transformers on torch, or ONNX Runtime
    on an exported folder in fp32 or int8.
    """

    name: str
    query_prefix: str = ""
    passage_prefix: str = ""
    normalize: bool = True
    max_seq_length: int | None = None
    offline_builder: Callable[[], Path] | None = None
    backend: str = BACKEND_SENTENCE_TRANSFORMERS
