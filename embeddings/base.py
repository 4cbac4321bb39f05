"""The one interface every embedder meets, so index and retrieval code never see torch or a model class."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from embeddings.spec import ModelSpec


@runtime_checkable
class Embedder(Protocol):
    """Turns queries and passages into comparable vectors.

    Both methods return float32 arrays of shape (len(texts), dim) whose rows are L2-normalised, so a dot product
    is a cosine. Queries and passages are separate calls because retrieval models mark them differently
    ("query: " / "passage: " for e5). `name` identifies the model in an index manifest: an index built with one
    embedder is not searchable with another.
    """

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(
        self,
        texts: list[str],
        *,
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """`progress(n)` is called after each batch with the number of passages just embedded."""
        ...


class PrefixedEmbedder:
    """Shared half of the model-backed embedders: the registry's query/passage prefixes go on here,
    so a backend only implements ``_embed(texts, batch_size, progress)`` on already-prefixed texts."""

    spec: "ModelSpec"

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed([self.spec.query_prefix + text for text in texts], batch_size=16, progress=None)

    def embed_passages(
        self,
        texts: list[str],
        *,
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        return self._embed([self.spec.passage_prefix + text for text in texts], batch_size, progress)

    def _embed(self, texts: list[str], batch_size: int, progress: Callable[[int], None] | None) -> np.ndarray:
        raise NotImplementedError
