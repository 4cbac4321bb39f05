"""Ingest: document files → cleaned text → chunks → a new index version.

Reading the formats (text and HTML with their encodings, PDF pages with OCR for scans, Word, slides,
spreadsheets) into located sections, removing page furniture, cutting passages with exact spans, and the
incremental indexer that hands them to the store.
May import: ``rag.text``, ``rag.store``, ``rag.schema``, ``rag.errors``, ``embeddings``.
"""
