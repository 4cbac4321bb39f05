"""Retrieve: a question → the ranked passages of an open index.

Dense, keyword and query-adaptive hybrid ranking, the optional cross-encoder rerank, and the
cross-lingual query (English questions over Chinese documents).
May import: ``rag.store``, ``rag.text``, ``rag.schema``, ``rag.errors``.
"""
