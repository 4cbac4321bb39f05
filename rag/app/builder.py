"""Settings → working objects: the one assembly point of the CLI, the UI and bench.

Every front door builds its index, retriever, generator and pipeline here, so a setting
(``k``, ``retriever``, ``rerank``, ``vector_store``, ...) means the same thing everywhere.
Models and open indexes come from ``rag.app.runtime`` (loaded once per process).
"""

from __future__ import annotations

from pathlib import Path

from rag.app.config import Settings
from rag.app.runtime import get_embedder
from rag.app.runtime import open_index as _open_live_index
from rag.retrieve.retrieval import Retriever


def open_index(settings: Settings):
    """The live version of the configured index."""
    return _open_live_index(settings.index, embedder=settings.embedder or None, milvus_token=settings.milvus_token)


def make_retriever(settings: Settings, *, embedder=None) -> Retriever:
    """The configured retriever (``retriever`` mode, ``rerank`` cross-encoder) over the live index, with the
    embedder the index was built with (or ``embedder``, already loaded)."""
    from rag.retrieve.rerank import Reranker

    index = open_index(settings)
    mode = settings.retriever
    if mode == "bm25":
        embedder = None
    elif embedder is None:
        embedder = get_embedder(index.manifest.embedder)
    return Retriever(index, embedder, mode=mode, reranker=Reranker(settings.rerank) if settings.rerank else None)


def make_generator(settings: Settings, choice: str | None = None, model: str | None = None):
    """The chat model for ``choice`` (default: the ``generator`` setting): "extractive"/"none" → None (the
    extractive answerer), "auto", an engine name, or a UI menu value "engine:model". The model is ``model``,
    else the one the menu value names, else the ``model`` setting."""
    from rag.generation import load_generator

    choice = (choice or settings.generator or "auto").strip()
    if choice in ("extractive", "none"):
        return None
    engine, _, menu_model = choice.partition(":")
    model = (model or "").strip() or menu_model or settings.model or None
    opts = {"base_url": settings.openai_base_url, "api_key": settings.openai_key} if engine == "openai" else {}
    return load_generator(engine, model, **opts)


def make_pipeline(settings: Settings, *, retriever: Retriever | None = None, embedder=None,
                  choice: str | None = None, model: str | None = None, k: int | None = None):
    """Question → cited answer with the configured retriever, generator and ``k`` (``k`` overrides it)."""
    from rag.answer.pipeline import Pipeline

    ret = retriever if retriever is not None else make_retriever(settings, embedder=embedder)
    return Pipeline(ret, make_generator(settings, choice, model), k=int(k or settings.k))


def index_files(settings: Settings, paths: list[str | Path], *, embedder=None, **options):
    """Add or refresh ``paths`` in the configured index (``rag.ingest.indexing.update_index`` options)."""
    from rag.ingest.indexing import update_index

    return update_index(paths, settings.index, embedder=embedder,
                        embedder_name=None if embedder is not None else (settings.embedder or None),
                        store=settings.store, **options)


def remove_documents(settings: Settings, names: list[str]) -> int:
    """Drop documents (by source name or path) from the configured index."""
    from rag.ingest.indexing import remove_documents as remove

    return remove(names, settings.index, settings.store)
