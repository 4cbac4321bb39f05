"""Retrieval benchmark: hit@1/5/10, MRR@10 and query latency (p50/p95) for each retriever, in one run.

    python -m bench.retrieval                      # every shared set: seed (zh + en), CMRC2018-dev, RGB-zh-dev
    python -m bench.retrieval --sets seed --modes hybrid,bm25
    python -m bench.retrieval --sets seed_en,extra_en --modes dense,hybrid:off,hybrid:pinyin,hybrid:dictionary,hybrid

A mode ``retriever:crosslingual`` picks the cross-lingual path of English questions
(``auto`` — the default —, ``dictionary``, ``pinyin`` or ``off``; see docs/crosslingual.md);
``hybrid@fixed`` is hybrid with the former fixed fusion weight instead of the per-query one
(rag/retrieve/fusion.py).

Each corpus is indexed once into ``.yuanwen/bench/<set>`` (incremental, so re-runs only
search); every retriever then answers the same questions over the same index. Retrievers take
turns question by question (who goes first rotates), so they are timed under the same load; each question is embedded
once per run, yet every retriever that uses it is charged what its query embedding cost
(p50/p95 are what a user waits for); the search columns leave the embedding out.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from rag.ingest.indexing import update_index
from rag.app.config import load_settings
from rag.app.metrics import compute_metrics, load_questions
from rag.retrieve.rerank import Reranker
from rag.retrieve.retrieval import FusionConfig, Retriever
from rag.app.runtime import get_embedder, open_index

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SETS = {
    "seed": (SHARED / "corpus", SHARED / "eval" / "seed_dev.jsonl"),
    "seed_en": (SHARED / "corpus", SHARED / "eval" / "seed_dev_en.jsonl"),
    # English questions written for this project (not the judges' set): bench/questions/.
    "extra_en": (SHARED / "corpus", Path(__file__).resolve().parent / "questions" / "seed_extra_en.jsonl"),
    "cmrc": (SHARED / "bench" / "cmrc2018-dev" / "corpus", SHARED / "bench" / "cmrc2018-dev" / "questions.jsonl"),
    # Real news with search-style questions; CC BY-NC-SA, evaluation only (never copied into the project).
    "rgb": (SHARED / "bench" / "rgb-zh-dev" / "corpus", SHARED / "bench" / "rgb-zh-dev" / "questions.jsonl"),
}
SHARED_SETS = ("seed", "seed_en", "cmrc", "rgb")


class _MemoEmbedder:
    """Embeds each question once per run, so retrievers are timed on search, not on repeated encoding.
    ``spent`` adds up the seconds really spent encoding (the timing loop subtracts them); ``charged``
    adds up what the requested texts cost when first encoded, so every retriever is charged for its
    own query embedding, as a user would be."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, object] = {}
        self._cost: dict[str, float] = {}
        self.spent = self.charged = 0.0

    def embed_queries(self, texts):
        import numpy as np

        missing = [t for t in texts if t not in self._cache]
        if missing:
            t = time.perf_counter()
            self._cache.update(zip(missing, self.inner.embed_queries(missing)))
            cost = time.perf_counter() - t
            self.spent += cost
            self._cost.update((m, cost / len(missing)) for m in missing)
        self.charged += sum(self._cost[t] for t in texts)
        return np.stack([self._cache[t] for t in texts])


def make_retriever(mode: str, index, embedder, reranker: str | None = None) -> Retriever:
    """``retriever[:crosslingual][@fusion]`` → a Retriever, e.g. ``hybrid:off`` or ``hybrid@fixed``."""
    spec, _, fusion = mode.split("+")[0].partition("@")
    base, _, crosslingual = spec.partition(":")
    return Retriever(index, embedder, mode=base, crosslingual=crosslingual or "auto",
                     fusion=FusionConfig(method=fusion or "adaptive"),
                     reranker=Reranker(reranker) if reranker else None)


def prepare_set(name: str, index_root: Path, store: str = "faiss"):
    """Index the set's corpus (incrementally) → (index, questions, index seconds, update report)."""
    corpus, questions = SETS[name]
    index_dir = index_root / corpus.name if corpus == SHARED / "corpus" else index_root / name
    if store != "faiss":
        index_dir = index_dir.with_name(f"{index_dir.name}-{store}")
    t0 = time.perf_counter()
    options = load_settings(vector_store=store).store  # the Milvus address and token as configured
    report = update_index([corpus], index_dir, store=options)
    index = open_index(index_dir, milvus_token=options.milvus_token)
    return index, load_questions(questions), time.perf_counter() - t0, report


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def run_set(name: str, modes: list[str], index_root: Path, limit: int | None = None,
            rerank: str | None = None, store: str = "faiss") -> list[dict]:
    index, qs, index_seconds, report = prepare_set(name, index_root, store)
    qs = qs[:limit]
    embedder = _MemoEmbedder(get_embedder(index.manifest.embedder))
    runs = [(mode, None) for mode in modes] + ([("hybrid+rerank", rerank)] if rerank else [])
    retrievers = [(mode, make_retriever(mode, index, embedder, reranker)) for mode, reranker in runs]
    results = {mode: [] for mode, _ in runs}
    lat = {mode: [] for mode, _ in runs}  # search only
    total = {mode: [] for mode, _ in runs}  # search + this retriever's query embedding
    embed_ms = []
    for i, q in enumerate(qs):
        turn = i % len(retrievers)  # who goes first rotates: the first after an encoding runs on colder caches
        for mode, retriever in retrievers[turn:] + retrievers[:turn]:
            spent, charged, t = embedder.spent, embedder.charged, time.perf_counter()
            passages = retriever.search(q.question, k=10)
            encoding = embedder.spent - spent
            lat[mode].append((time.perf_counter() - t - encoding) * 1e3)
            total[mode].append(lat[mode][-1] + (embedder.charged - charged) * 1e3)
            if encoding:
                embed_ms.append(encoding * 1e3)
            results[mode].append({"qid": q.qid, "passages": [p.to_json() for p in passages]})
    rows = []
    for mode, _ in runs:
        m = compute_metrics(qs, results[mode])
        rows.append({"set": name, "mode": mode, "store": store, "questions": len(qs), **{k: m.get(k, 0.0) for k in
                     ("hit@1", "hit@5", "hit@10", "mrr@10")}, "p50_ms": statistics.median(total[mode]),
                     "p95_ms": _percentile(total[mode], 0.95), "search_p50_ms": statistics.median(lat[mode]),
                     "search_p95_ms": _percentile(lat[mode], 0.95), "embed_p50_ms": _percentile(embed_ms, 0.5),
                     "embed_p95_ms": _percentile(embed_ms, 0.95), "index_s": index_seconds,
                     "chunks": report.chunks, "embedded": report.embedded})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SHARED_SETS))
    ap.add_argument("--modes", default="hybrid,hybrid@fixed,dense,bm25")
    ap.add_argument("--index-root", default=".yuanwen/bench", type=Path)
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    ap.add_argument("--vector-stores", default="faiss", help="e.g. faiss,milvus: the same sets on each store")
    ap.add_argument("--rerank", default=None, help="also run hybrid + this cross-encoder (name or folder)")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"python {platform.python_version()}")
    print("| set | store | retriever | questions | hit@1 | hit@5 | hit@10 | MRR@10 | p50 ms | p95 ms "
          "| search p50 / p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for store in args.vector_stores.split(","):
        for name in args.sets.split(","):
            for r in run_set(name, args.modes.split(","), args.index_root, args.limit, args.rerank, store):
                print(f"| {r['set']} | {store} | {r['mode']} | {r['questions']} | {r['hit@1']:.3f} | "
                      f"{r['hit@5']:.3f} | {r['hit@10']:.3f} | {r['mrr@10']:.3f} | {r['p50_ms']:.1f} | "
                      f"{r['p95_ms']:.1f} | {r['search_p50_ms']:.1f} / {r['search_p95_ms']:.1f} |", flush=True)
            print(f"<!-- {name} on {store}: {r['chunks']} chunks, indexed in {r['index_s']:.1f}s "
                  f"({r['embedded']} embedded); p50/p95 include the query embedding "
                  f"(p50 {r['embed_p50_ms']:.1f} ms / p95 {r['embed_p95_ms']:.1f} ms), search columns leave it out -->", flush=True)


if __name__ == "__main__":
    main()
