"""Shared fixtures. Each concern keeps its fixtures in its own plugin module."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The test run is a front door like the CLI: the model cache is $YUANWEN_CACHE when set (rag.cache).
from rag.cache import set_cache_dir  # noqa: E402

set_cache_dir(os.environ.get("YUANWEN_CACHE"))

pytest_plugins = [
    "tests.fixtures_core",
    "tests.fixtures_documents",
    "tests.fixtures_embeddings",
    "tests.fixtures_generation",
    "tests.fixtures_answering",
    "tests.fixtures_ui",
    "tests.fixtures_formats",
    "tests.fixtures_server",
    "tests.fixtures_milvus",
    "tests.fixtures_office",
]
