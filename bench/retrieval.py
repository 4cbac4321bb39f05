"""Retrieval benchmark: hit@1/5/10, MRR@10 and median query latency for each retriever, in one run.

    python -m bench.retrieval                      # seed (zh + en) and CMRC2018-dev
    python -m bench.retrieval --sets seed --modes hybrid,bm25
    python -m bench.retrieval --sets seed_en,extra_en --modes dense,hybrid:off,hybrid:pinyin,hybrid:dictionary,hybrid

A mode ``retriever:crosslingual`` picks the cross-lingual path of English questions
(``auto`` — the default —, ``dictionary``, ``pinyin`` or ``off``; see docs/crosslingual.md).

Each corpus is indexed once into ``.yuanwen/bench/<set>`` (incremental, so re-runs only
search); every retriever then answers the same questions over the same index.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from rag.index import VECTOR_STORE_ENV
from rag.indexing import update_index
from rag.metrics import compute_metrics, load_questions
from rag.rerank import Reranker
from rag.retrieval import Retriever
from rag.runtime import get_embedder, open_index

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SETS = {
    "seed": (SHARED / "corpus", SHARED / "eval" / "seed_dev.jsonl"),
    "seed_en": (SHARED / "corpus", SHARED / "eval" / "seed_dev_en.jsonl"),
    # English questions written for this project (not the judges' set): bench/questions/.
    "extra_en": (SHARED / "corpus", Path(__file__).resolve().parent / "questions" / "seed_extra_en.jsonl"),
    "cmrc": (SHARED / "bench" / "cmrc2018-dev" / "corpus", SHARED / "bench" / "cmrc2018-dev" / "questions.jsonl"),
}


class _MemoEmbedder:
    """Embeds each question once per run, so retrievers are timed on search, not on repeated encoding
    (the first retriever in --modes pays for encoding; put `hybrid` first to time it end to end)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, object] = {}

    def embed_queries(self, texts):
        import numpy as np

        missing = [t for t in texts if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.inner.embed_queries(missing)))
        return np.stack([self._cache[t] for t in texts])


def run_set(name: str, modes: list[str], index_root: Path, limit: int | None = None,
            rerank: str | None = None, store: str = "faiss") -> list[dict]:
    corpus, questions = SETS[name]
    index_dir = index_root / corpus.name if corpus == SHARED / "corpus" else index_root / name
    if store != "faiss":
        index_dir = index_dir.with_name(f"{index_dir.name}-{store}")
    t0 = time.perf_counter()
    previous = os.environ.get(VECTOR_STORE_ENV)
    os.environ[VECTOR_STORE_ENV] = store
    try:
        report = update_index([corpus], index_dir)
    finally:
        os.environ.pop(VECTOR_STORE_ENV)
        if previous is not None:
            os.environ[VECTOR_STORE_ENV] = previous
    index_seconds = time.perf_counter() - t0
    qs = load_questions(questions)[:limit]
    index = open_index(index_dir)
    embedder = _MemoEmbedder(get_embedder(index.manifest.embedder))
    rows = []
    runs = [(mode, None) for mode in modes] + ([("hybrid+rerank", rerank)] if rerank else [])
    for mode, reranker in runs:
        base, _, crosslingual = mode.split("+")[0].partition(":")
        retriever = Retriever(index, embedder, mode=base, crosslingual=crosslingual or "auto",
                              reranker=Reranker(reranker) if reranker else None)
        results, lat = [], []
        for q in qs:
            t = time.perf_counter()
            passages = retriever.search(q.question, k=10)
            lat.append(time.perf_counter() - t)
            results.append({"qid": q.qid, "passages": [p.to_json() for p in passages]})
        m = compute_metrics(qs, results)
        rows.append({"set": name, "mode": mode, "store": store, "questions": len(qs), **{k: m.get(k, 0.0) for k in
                     ("hit@1", "hit@5", "hit@10", "mrr@10")}, "p50_ms": statistics.median(lat) * 1e3,
                     "index_s": index_seconds, "chunks": report.chunks, "embedded": report.embedded})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="seed,seed_en,cmrc")
    ap.add_argument("--modes", default="hybrid,dense,bm25")
    ap.add_argument("--index-root", default=".yuanwen/bench", type=Path)
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    ap.add_argument("--vector-stores", default="faiss", help="e.g. faiss,milvus: the same sets on each store")
    ap.add_argument("--rerank", default=None, help="also run hybrid + this cross-encoder (name or folder)")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"python {platform.python_version()}")
    print("| set | store | retriever | questions | hit@1 | hit@5 | hit@10 | MRR@10 | median query ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for store in args.vector_stores.split(","):
        for name in args.sets.split(","):
            for r in run_set(name, args.modes.split(","), args.index_root, args.limit, args.rerank, store):
                print(f"| {r['set']} | {store} | {r['mode']} | {r['questions']} | {r['hit@1']:.3f} | "
                      f"{r['hit@5']:.3f} | {r['hit@10']:.3f} | {r['mrr@10']:.3f} | {r['p50_ms']:.1f} |", flush=True)
            print(f"<!-- {name} on {store}: {r['chunks']} chunks, indexed in {r['index_s']:.1f}s "
                  f"({r['embedded']} embedded) -->", flush=True)


if __name__ == "__main__":
    main()
