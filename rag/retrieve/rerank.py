"""Optional second stage: a cross-encoder re-scores the fused candidates.

A cross-encoder reads question and passage together, which beats both first-stage signals
on paraphrases, but it costs one forward pass per candidate, so it only sees the top
``candidates`` of the fused ranking. No reranker ships offline, so the stage is off unless
the user names one (a sentence-transformers CrossEncoder by hub name or folder, e.g.
BAAI/bge-reranker-base); nothing else depends on it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from rag.errors import ModelError
from rag.schema import Passage

_loaded: dict[str, object] = {}
_lock = threading.Lock()


def load_cross_encoder(name_or_path: str):
    """A CrossEncoder, loaded once per process."""
    with _lock:
        if name_or_path not in _loaded:
            from sentence_transformers import CrossEncoder

            local = Path(name_or_path).expanduser()
            if name_or_path.startswith((".", "/", "~")) and not local.exists():
                raise ModelError(f"reranker folder not found: {local}",
                                 "pass the folder of a sentence-transformers CrossEncoder, or drop --rerank")
            try:
                _loaded[name_or_path] = CrossEncoder(str(local) if local.exists() else name_or_path, device="cpu")
            except Exception as exc:  # hub, cache and format errors all mean "not usable here"
                raise ModelError(
                    f"cannot load reranker {name_or_path!r}: {type(exc).__name__}: {exc}",
                    "download it where you have internet and pass its folder, or drop --rerank "
                    "(reranking is optional)",
                ) from exc
        return _loaded[name_or_path]


class Reranker:
    """Re-orders passages by cross-encoder score: new passages scored by it, ``details['first_stage_score']``
    keeping the fused score (the passages given are left as they were)."""

    def __init__(self, model: str, *, candidates: int = 20, batch_size: int = 16):
        self.model = model
        self.candidates = candidates
        self.batch_size = batch_size

    def rerank(self, query: str, passages: list[Passage], k: int) -> list[Passage]:
        if not passages:
            return []
        encoder = load_cross_encoder(self.model)
        head = passages[: self.candidates]
        scores = encoder.predict([(query, p.text) for p in head], batch_size=self.batch_size,
                                 show_progress_bar=False)
        rescored = [replace(p, score=float(s), details={**p.details, "first_stage_score": p.score, "rerank": float(s)})
                    for p, s in zip(head, scores)]
        ranked = sorted(rescored, key=lambda p: -p.score)
        return ranked[:k]
