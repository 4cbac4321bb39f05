"""Many users searching at once: N threads ask hybrid ``search`` (query embedding, dense + BM25, fusion — no
LLM) against one loaded index, as ``yuanwen serve`` does; p50/p95 latency, throughput and errors per store.

    python -m bench.concurrency --set seed --stores faiss --users 1,5,20
    YUANWEN_MILVUS_URI=http://127.0.0.1:19530 python -m bench.concurrency --set seed --stores faiss,milvus
    python -m bench.concurrency --cached-embeddings ...     # questions embedded beforehand: the stores alone

Each user asks the set's questions in its own order, ``--requests`` each; users of one level start together.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import numpy as np

from bench.retrieval import make_retriever, prepare_set
from rag.app.runtime import get_embedder


class CachedEmbedder:
    """Query vectors computed once before the run, so the measurement is the stores' own."""

    def __init__(self, inner, questions: list[str]):
        self.name, self.dim = inner.name, inner.dim
        self._vectors = dict(zip(questions, inner.embed_queries(questions)))
        self._inner = inner

    def embed_queries(self, texts):
        missing = [t for t in texts if t not in self._vectors]
        if missing:  # a cross-lingual rewrite of the question: embed it (and keep it)
            self._vectors.update(zip(missing, self._inner.embed_queries(missing)))
        return np.stack([self._vectors[t] for t in texts])


def run_level(index, embedder, questions: list[str], users: int, requests: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(users)

    def user(u: int) -> None:
        retriever = make_retriever("hybrid", index, embedder)
        mine = []
        start.wait()
        for i in range(requests):
            question = questions[(u * 7 + i) % len(questions)]
            t = time.perf_counter()
            try:
                if not retriever.search(question, k=5):
                    raise RuntimeError(f"no passages for {question!r}")
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            mine.append((time.perf_counter() - t) * 1e3)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"users": users, "requests": users * requests, "errors": len(errors),
            "p50_ms": float(np.percentile(latencies, 50)) if latencies else 0.0,
            "p95_ms": float(np.percentile(latencies, 95)) if latencies else 0.0,
            "per_s": len(latencies) / wall, "first_error": errors[0] if errors else ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="seed")
    ap.add_argument("--stores", default="faiss")
    ap.add_argument("--users", default="1,5,20")
    ap.add_argument("--requests", type=int, default=20, help="searches per user and level")
    ap.add_argument("--index-root", default=".yuanwen/bench", type=Path)
    ap.add_argument("--cached-embeddings", action="store_true")
    args = ap.parse_args()
    print(f"set {args.set}, hybrid search k=5, {args.requests} searches per user, "
          f"{'questions embedded beforehand' if args.cached_embeddings else 'query embedding included'}")
    print("| store | users | searches | errors | p50 ms | p95 ms | searches/s |")
    print("|---|---|---|---|---|---|---|")
    for store in args.stores.split(","):
        index, questions, _, _ = prepare_set(args.set, args.index_root, store)
        texts = [q.question for q in questions]
        embedder = get_embedder(index.manifest.embedder)
        if args.cached_embeddings:
            embedder = CachedEmbedder(embedder, texts)
        run_level(index, embedder, texts, 1, 3)  # warm-up: models loaded, caches filled
        for users in (int(u) for u in args.users.split(",")):
            r = run_level(index, embedder, texts, users, args.requests)
            print(f"| {store} | {users} | {r['requests']} | {r['errors']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                  f"{r['per_s']:.1f} |", flush=True)
            if r["first_error"]:
                print(f"  first error: {r['first_error']}")


if __name__ == "__main__":
    main()
