"""Ingest: document files → cleaned text → chunks → a new index version.

Finding the files of a collection and their names (files.py), decoding text of any encoding (encodings.py),
one reader per format (webpages, markdown_text, wordfiles, pdfpages with ocr for scans, spreadsheets, slides)
into located sections (layout.py), a file → a cleaned document (documents.py, cleaning.py), cutting passages
with exact spans (chunking.py), and the incremental indexer that hands them to the store (indexing.py).
May import: ``rag.text``, ``rag.store``, ``rag.schema``, ``rag.errors``, ``embeddings``.
"""
