"""FAISS vs Milvus (Lite, or a server by URI) on the same synthetic vectors: ingest time, query p50/p95, recall@10.

    python -m bench.vectorstores --rows 100000          # synthetic 384-d unit vectors (say so when quoting)
    YUANWEN_MILVUS_URI=http://milvus:19530 python -m bench.vectorstores --rows 100000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.store.milvus_store import MilvusStore, default_uri
from rag.store.vectorstore import FaissStore


def synthetic(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, rows // 100), dim)).astype(np.float32)
    v = centres[rng.integers(0, len(centres), rows)] + 0.5 * rng.standard_normal((rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def timed_queries(store, queries: np.ndarray, k: int = 10):
    lat, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append([r for r, _ in store.search(q, k)])
        lat.append((time.perf_counter() - t) * 1e3)
    lat.sort()
    return statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    data = synthetic(args.rows, args.dim)
    queries = synthetic(args.queries, args.dim, seed=1)
    exact = FaissStore.build(data, "Flat")
    truth = [[r for r, _ in exact.search(q, 10)] for q in queries]
    print(f"{args.rows} synthetic {args.dim}-d vectors, {args.queries} single queries")
    print("| store | ingest s | query p50 ms | query p95 ms | recall@10 vs exact |")
    print("|---|---|---|---|---|")
    tmp = Path(tempfile.mkdtemp())
    try:
        for name, build in [
            ("faiss (by size)", lambda: FaissStore.build(data)),
            ("milvus", lambda: MilvusStore.build(data, uri=default_uri(tmp), collection="bench_vectors")),
        ]:
            t = time.perf_counter()
            store = build()
            ingest = time.perf_counter() - t
            p50, p95, got = timed_queries(store, queries)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth)])
            label = f"{name}: {getattr(store, 'index_type', '')}"
            print(f"| {label} | {ingest:.1f} | {p50:.2f} | {p95:.2f} | {recall:.3f} |", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
