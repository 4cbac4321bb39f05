"""Store: what an index version holds on disk and how it is opened.

The manifest and its atomic versions, chunk and document metadata (SQLite), the BM25 keyword index
and the dense vector stores (FAISS, Milvus).
May import: ``rag.text``, ``rag.schema``, ``rag.errors``, and ``rag.retrieve.crosslingual``'s term
index (it is built and saved with every version).
"""
