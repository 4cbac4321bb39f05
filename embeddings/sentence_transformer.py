"""The Embedder for any sentence-transformers model folder, called the way its ModelSpec says."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embeddings.base import PrefixedEmbedder
from embeddings.spec import ModelSpec


class SentenceTransformerEmbedder(PrefixedEmbedder):
    """Embeds with a loaded `SentenceTransformer`, adding the spec's prefixes.

    Passages are embedded longest first in fixed-size batches, so each batch pads to similar lengths (on a CPU,
    padding is wasted work), and the caller can watch progress batch by batch; results come back in input order.
    """

    def __init__(self, model, spec: ModelSpec, *, model_folder: Path | None = None) -> None:
        self.model = model
        self.spec = spec
        self.model_folder = model_folder  # None for hub models, which live in the Hugging Face cache
        self.name = spec.name
        self.dim = int(model.get_embedding_dimension())
        if spec.max_seq_length is not None:
            model.max_seq_length = spec.max_seq_length

    @classmethod
    def from_folder(cls, folder: str | Path, spec: ModelSpec, *, device: str = "cpu") -> SentenceTransformerEmbedder:
        """Load a model folder without touching the network."""
        model = _load_sentence_transformer(str(folder), device=device, local_files_only=True)
        return cls(model, spec, model_folder=Path(folder))

    @classmethod
    def from_hub(cls, name: str, spec: ModelSpec, *, device: str = "cpu") -> SentenceTransformerEmbedder:
        """Load a hub model from the local Hugging Face cache, downloading it when online."""
        return cls(_load_sentence_transformer(name, device=device, local_files_only=False), spec)

    def _embed(self, texts: list[str], batch_size: int, progress: Callable[[int], None] | None) -> np.ndarray:
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        longest_first = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(texts), batch_size):
            batch = longest_first[start : start + batch_size]
            encoded = self.model.encode(
                [texts[i] for i in batch],
                batch_size=len(batch),
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            vectors[batch] = encoded.astype(np.float32, copy=False)
            if progress is not None:
                progress(len(batch))
        if self.spec.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.maximum(norms, 1e-12)
        return vectors

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(name={self.name!r}, dim={self.dim})"


def _load_sentence_transformer(name_or_path: str, *, device: str, local_files_only: bool):
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(os.cpu_count() or 1)
    transformers_logging.disable_progress_bar()  # "Loading weights" bars would interleave with the app's own
    return SentenceTransformer(name_or_path, device=device, local_files_only=local_files_only)
