"""FAISS vs Milvus (Lite, or a server by URI) on the same synthetic vectors: ingest time, memory, query p50/p95,
recall@10 against exact search, and an in-place update of a share of the rows against a full rebuild.

    python -m bench.vectorstores --rows 100000                      # FAISS and Milvus Lite
    python -m bench.vectorstores --rows 100000 --start-server       # FAISS and a temporary local Milvus server
    python -m bench.vectorstores --rows 1000000 --start-server --stores milvus \
        --milvus-index "IVF_SQ8 nlist=1024 nprobe=32" --milvus-search nprobe=16,nprobe=64
    YUANWEN_MILVUS_URI=http://127.0.0.1:19530 python -m bench.vectorstores --rows 100000 --stores milvus

Synthetic clustered 384-d unit vectors, not text (say so when quoting). Milvus: "ingest" is inserting every row
and checking it is visible; "index" is what the product's settle step does after a large write (flush, wait for
the index build, wait until the query node serves the indexed segments). The Milvus server gets two rows: the
searches right after the insert (served from Milvus's temporary index: what a build published before the settle
step), and after the settle. A full rebuild (``yuanwen index --rebuild`` on Milvus: new collection, insert, index,
load) is ingest + index; the update is the in-place write of the product. ``--milvus-search`` adds rows with other
search parameters on the same index. Memory: the FAISS index's size in this process, the Milvus server process's
resident memory after the searches (0 when the store is not a local server).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.milvus_server import configured_or_started
from rag.store.milvus_store import DEFAULT_INDEX, IndexSpec, MilvusStore, default_uri
from rag.store.vectorstore import FaissStore

K = 10


def synthetic(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, rows // 100), dim)).astype(np.float32)
    v = np.empty((rows, dim), dtype=np.float32)
    for start in range(0, rows, 100_000):  # blockwise: 1M rows without a second 1.5 GB temporary
        n = min(100_000, rows - start)
        block = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
        v[start:start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return v


def timed_queries(store, queries: np.ndarray, k: int = K):
    lat, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append([r for r, _ in store.search(q, k)])
        lat.append((time.perf_counter() - t) * 1e3)
    return statistics.median(lat), float(np.percentile(lat, 95)), results


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def update_share(store, kind: str, data: np.ndarray, share: float, seed: int = 2) -> tuple[float, int]:
    """Remove ``share`` of the rows and add as many new ones, in place; (seconds, rows changed)."""
    n = max(1, int(len(data) * share))
    rng = np.random.default_rng(seed)
    removed = np.sort(rng.choice(len(data), n, replace=False)).astype(np.int64)
    added_keys = np.arange(len(data), len(data) + n, dtype=np.int64)
    added = synthetic(n, data.shape[1], seed=seed)
    t = time.perf_counter()
    if kind == "faiss":
        store.update(removed, added_keys, added)
    else:
        store.write_generation(store.generation + 1, added_keys, added, removed, len(data))
    return time.perf_counter() - t, n


def recall_at_k(got, truth) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(got, truth)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--stores", default="faiss,milvus")
    ap.add_argument("--update-share", type=float, default=0.01, help="share of rows replaced by the in-place update")
    ap.add_argument("--start-server", action="store_true", help="run Milvus on a temporary local server")
    ap.add_argument("--milvus-index", default="", help=f"Milvus index spec (default {DEFAULT_INDEX!r})")
    ap.add_argument("--milvus-search", default="", help="extra search parameters to measure, e.g. ef=128,ef=256")
    args = ap.parse_args()
    progress = logging.StreamHandler()
    progress.setFormatter(logging.Formatter("(%(asctime)s %(message)s)"))
    logging.getLogger("rag.store.milvus_store").addHandler(progress)
    logging.getLogger("rag.store.milvus_store").setLevel(logging.INFO)
    tmp = Path(tempfile.mkdtemp())
    with configured_or_started(args.start_server, tmp) as (uri, server):
        data = synthetic(args.rows, args.dim)
        queries = synthetic(args.queries, args.dim, seed=1)
        exact = FaissStore.build(data, "Flat")
        truth = [[r for r, _ in exact.search(q, K)] for q in queries]
        del exact
        where = "a local Milvus server" if server else (uri or "Milvus Lite")
        print(f"{args.rows} synthetic {args.dim}-d vectors, {args.queries} single queries, Milvus: {where}")
        print(f"| store | ingest s | index s | memory MB | query p50 ms | query p95 ms | recall@{K} | "
              f"in-place update of {args.update_share:.0%} s | update / ingest | update / full rebuild |")
        print("|---|---|---|---|---|---|---|---|---|---|")

        def row(label, ingest, index_s, memory, p50, p95, recall, update="", ratios=("", "")):
            print(f"| {label} | {ingest} | {index_s} | {memory} | {p50:.2f} | {p95:.2f} | {recall:.3f} | {update} | "
                  f"{ratios[0]} | {ratios[1]} |", flush=True)

        for kind in args.stores.split(","):
            t = time.perf_counter()
            if kind == "faiss":
                store = FaissStore.build(data)
                ingest = time.perf_counter() - t
                import faiss

                memory = faiss.serialize_index(store.index).nbytes / 2**20
                p50, p95, got = timed_queries(store, queries)
                seconds, _ = update_share(store, kind, data, args.update_share)
                row(f"faiss: {store.index_type}", f"{ingest:.1f}", "—", f"{memory:.0f}", p50, p95,
                    recall_at_k(got, truth), f"{seconds:.2f}", (f"{seconds / ingest:.1%}", f"{seconds / ingest:.1%}"))
                del store
                continue
            store = MilvusStore.build(data, uri=uri or default_uri(tmp), collection="bench_vectors",
                                      index=args.milvus_index, settle=False)
            ingest = time.perf_counter() - t
            print(f"(inserted in {ingest:.1f} s)", flush=True)
            label = f"milvus{' server' if uri else ' Lite'}: {store.index}"
            if uri:
                p50, p95, got = timed_queries(store, queries)
                row(f"{label}, right after the insert", f"{ingest:.1f}", "—", "", p50, p95, recall_at_k(got, truth))
                t = time.perf_counter()
                settled = store.settle(fresh=True)
                index_s = time.perf_counter() - t
                if not settled:
                    print(f"(the index did not settle within {index_s:.0f} s)")
            else:
                index_s = 0.0
            p50, p95, got = timed_queries(store, queries)
            memory = rss_mb(server.server_pid()) if server else 0.0
            recall = recall_at_k(got, truth)
            spec = store.index
            for extra in filter(None, args.milvus_search.split(",")):
                key, _, value = extra.partition("=")
                store.index = IndexSpec(spec.index_type, spec.build, {**spec.search, key: int(value)})
                e50, e95, egot = timed_queries(store, queries)
                row(f"milvus: same index, search {extra}", "", "", "", e50, e95, recall_at_k(egot, truth))
            store.index = spec
            seconds, _ = update_share(store, kind, data, args.update_share)
            rebuild = ingest + index_s
            row(f"{label}{', after settling' if uri else ''}", f"{ingest:.1f}", f"{index_s:.1f}", f"{memory:.0f}",
                p50, p95, recall, f"{seconds:.2f}", (f"{seconds / ingest:.1%}", f"{seconds / rebuild:.1%}"))
            del store


if __name__ == "__main__":
    main()
