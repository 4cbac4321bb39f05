"""Settings in one place: defaults < ``yuanwen.toml`` < environment < command-line flags.

Loaded once per process by the CLI or the UI (``load_settings``) and passed down explicitly: this is the only
module that reads the ``YUANWEN_*`` settings from the environment.

``yuanwen.toml`` (in the working directory, or the file named by ``YUANWEN_CONFIG``)::

    index = ".yuanwen/index"
    embedder = "multilingual-e5-small"
    retriever = "hybrid"
    rerank = ""               # optional cross-encoder (name or folder), e.g. BAAI/bge-reranker-base
    k = 5
    generator = "auto"        # auto | extractive | llamacpp | transformers | openai
    model = ""                # GGUF path, HF name/folder, or the server's model name
    openai_base_url = "http://127.0.0.1:8080/v1"
    vector_store = "faiss"    # faiss | milvus (a new index; an existing one keeps its own)
    faiss_index = ""          # FAISS factory string [+ search parameters], e.g. "HNSW32,Flat efSearch=128"
    milvus_uri = ""           # empty: Milvus Lite file beside the index; else a server, e.g. http://milvus:19530
    milvus_token = ""         # better given as $YUANWEN_MILVUS_TOKEN than written in a file
    milvus_index = ""         # a new collection's index, e.g. "HNSW M=16 efConstruction=128 ef=512" (the default)
                              # or "IVF_SQ8 nlist=1024 nprobe=32"; an existing collection keeps its own
    openai_key = ""           # the OpenAI-compatible server's API key; better $YUANWEN_OPENAI_KEY or $OPENAI_API_KEY
    cache = ""                # where models and the dictionary are built once (default ~/.cache/yuanwen)

The cache root is one per process: loading the settings also sets it (rag.cache), for every stage below.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from rag.cache import set_cache_dir
from rag.errors import YuanwenError
from rag.store.options import StoreOptions

DEFAULT_INDEX_DIR = ".yuanwen/index"

# Setting → the environment variable(s) that set it (the first one set wins).
_ENV: dict[str, str | tuple[str, ...]] = {
    "index": "YUANWEN_INDEX",
    "embedder": "YUANWEN_EMBEDDER",
    "retriever": "YUANWEN_RETRIEVER",
    "rerank": "YUANWEN_RERANK",
    "generator": "YUANWEN_GENERATOR",
    "model": "YUANWEN_MODEL",
    "openai_base_url": "YUANWEN_OPENAI_BASE_URL",
    "k": "YUANWEN_K",
    "vector_store": "YUANWEN_VECTOR_STORE",
    "faiss_index": "YUANWEN_FAISS_INDEX",
    "milvus_uri": "YUANWEN_MILVUS_URI",
    "milvus_token": "YUANWEN_MILVUS_TOKEN",
    "milvus_index": "YUANWEN_MILVUS_INDEX",
    "openai_key": ("YUANWEN_OPENAI_KEY", "OPENAI_API_KEY"),
    "cache": "YUANWEN_CACHE",
}


@dataclass(frozen=True)
class Settings:
    index: str = DEFAULT_INDEX_DIR
    embedder: str = ""  # empty: the index's own embedder, else the default one
    retriever: str = "hybrid"
    rerank: str = ""  # cross-encoder name or folder; empty = no reranking (none ships offline)
    k: int = 5
    generator: str = "auto"
    model: str = ""
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    vector_store: str = ""  # empty: an existing index keeps its store, a new one uses faiss
    faiss_index: str = ""  # empty: chosen by collection size (rag.store.vectorstore)
    milvus_uri: str = ""
    milvus_token: str = ""
    milvus_index: str = ""  # empty: rag.store.milvus_store.DEFAULT_INDEX
    openai_key: str = ""  # empty: the server needs none
    cache: str = ""  # empty: ~/.cache/yuanwen

    def with_overrides(self, **overrides) -> "Settings":
        """These settings with the given values (None = keep): command-line flags go through here."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def store(self) -> StoreOptions:
        return StoreOptions(vector_store=self.vector_store, faiss_index=self.faiss_index,
                            milvus_uri=self.milvus_uri, milvus_token=self.milvus_token,
                            milvus_index=self.milvus_index)


def load_settings(**flags) -> Settings:
    """Defaults < ``yuanwen.toml`` < ``YUANWEN_*`` environment < ``flags`` (None = not given); the cache root
    they name becomes the process's (rag.cache)."""
    values: dict = {}
    path = Path(os.environ.get("YUANWEN_CONFIG", "yuanwen.toml"))
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise YuanwenError(f"{path} is not valid TOML ({exc})", "fix or remove the file") from exc
        known = {f.name for f in fields(Settings)}
        unknown = set(data) - known
        if unknown:
            raise YuanwenError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}",
                               f"known settings: {', '.join(sorted(known))}")
        values.update(data)
    for key, names in _ENV.items():
        for env in (names,) if isinstance(names, str) else names:
            if os.environ.get(env):
                values[key] = os.environ[env]
                break
    if "k" in values:
        try:
            values["k"] = int(values["k"])
        except (TypeError, ValueError):
            raise YuanwenError(f"k must be a whole number, not {values['k']!r}", "set k = 5 (or any count ≥ 1)") from None
    settings = Settings(**values).with_overrides(**flags)
    set_cache_dir(settings.cache)
    return settings
