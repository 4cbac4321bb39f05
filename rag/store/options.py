"""Where and how an index keeps its vectors: the store's share of the settings.

``rag.app`` fills it from the settings (flags > environment > ``yuanwen.toml``) and hands it down;
nothing in the store reads the environment itself.
"""

from __future__ import annotations

from dataclasses import dataclass

VECTOR_STORES = ("faiss", "milvus")


@dataclass(frozen=True)
class StoreOptions:
    vector_store: str = ""  # faiss | milvus; empty: the index keeps its own store (a new index: faiss)
    faiss_index: str = ""  # FAISS factory string, optionally + " " + search parameters; empty: by collection size
    milvus_uri: str = ""  # empty: a Milvus Lite file beside the index versions
    milvus_token: str = ""  # never written to disk
    milvus_index: str = ""  # Milvus index type + parameters of a new collection; empty: milvus_store.DEFAULT_INDEX
