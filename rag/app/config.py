"""Settings in one place: defaults < ``yuanwen.toml`` < environment < command-line flags.

``yuanwen.toml`` (in the working directory, or the file named by ``YUANWEN_CONFIG``)::

    index = ".yuanwen/index"
    embedder = "multilingual-e5-small"
    retriever = "hybrid"
    rerank = ""               # optional cross-encoder (name or folder), e.g. BAAI/bge-reranker-base
    k = 5
    generator = "auto"        # auto | extractive | llamacpp | transformers | openai
    model = ""                # GGUF path, HF name/folder, or the server's model name
    openai_base_url = "http://127.0.0.1:8080/v1"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from rag.errors import YuanwenError

DEFAULT_INDEX_DIR = ".yuanwen/index"

_ENV = {
    "index": "YUANWEN_INDEX",
    "embedder": "YUANWEN_EMBEDDER",
    "retriever": "YUANWEN_RETRIEVER",
    "rerank": "YUANWEN_RERANK",
    "generator": "YUANWEN_GENERATOR",
    "model": "YUANWEN_MODEL",
    "openai_base_url": "YUANWEN_OPENAI_BASE_URL",
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

    def with_overrides(self, **overrides) -> "Settings":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def load_settings() -> Settings:
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
    for key, env in _ENV.items():
        if os.environ.get(env):
            values[key] = os.environ[env]
    if "k" in values:
        values["k"] = int(values["k"])
    return Settings(**values)
