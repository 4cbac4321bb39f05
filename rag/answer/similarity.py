"""How close a sentence's meaning is to the question's: the embedder's cosine of the two.

The answerability stage's lexical signals miss a sentence that words the asked attribute
otherwise ("民生问题…已解决794件" for "烦心事…处理好了多少件", "流转闲置土地260亩" for "拿出了多少亩空着的地").
The retriever's embedder (e5: "query: " / "passage: ") reads meaning, not words; it is asked
about a handful of candidate sentences only, and their vectors are kept, so re-judging an
answer or asking a follow-up over the same passages costs nothing twice.
"""

from __future__ import annotations

import threading

import numpy as np

# Vectors kept (sentences and questions); cleared when full, like the pipeline's other caches.
CACHE_SIZE = 4096


class SentenceSimilarity:
    """Cosine of a question and each of some sentences, with the retrieval embedder."""

    def __init__(self, embedder):
        self.embedder = embedder
        self._sentences: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, question: str, sentences: list[str]) -> list[float]:
        if not sentences:
            return []
        query = self._query(question)
        new = [s for s in dict.fromkeys(sentences) if s not in self._sentences]
        if new:
            vectors = self.embedder.embed_passages(new)
            with self._lock:
                if len(self._sentences) + len(new) > CACHE_SIZE:
                    self._sentences.clear()
                self._sentences.update(zip(new, vectors))
        found = {s: self._sentences.get(s) for s in sentences}
        missing = [s for s, v in found.items() if v is None]  # evicted by another thread meanwhile
        if missing:
            found.update(zip(missing, self.embedder.embed_passages(missing)))
        return [float(np.dot(found[s], query)) for s in sentences]

    def remember_query(self, question: str, vector: np.ndarray) -> None:
        """Keep ``question``'s vector from the same embedder (retrieval's), so it is not embedded twice."""
        with self._lock:
            if len(self._queries) >= CACHE_SIZE:
                self._queries.clear()
            self._queries[question] = vector

    def _query(self, question: str) -> np.ndarray:
        vector = self._queries.get(question)
        if vector is None:
            vector = self.embedder.embed_queries([question])[0]
            self.remember_query(question, vector)
        return vector
