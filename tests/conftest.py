"""Shared fixtures. Each concern keeps its fixtures in its own plugin module."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

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
