"""yuanwen (原文): retrieval-augmented Q&A over Chinese documents, offline first."""

__version__ = "0.1.0"
