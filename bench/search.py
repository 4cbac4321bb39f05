"""Search latency and recall@10 of each FAISS index type at 10k / 100k / 1M synthetic 384-d vectors.

Why synthetic: no corpus of a million Chinese passages ships offline, and embedding one would take days on two
cores. The vectors imitate sentence embeddings rather than uniform noise (on which every approximate index looks
bad): unit vectors drawn around a shared mean direction and one topic centre per ~100 vectors, varying within a topic
mostly along a 64-dimensional subspace plus a little full-rank noise, so neighbours cluster as real passages do.
The bench also reports the same indexes on the real e5 vectors of an index you pass with --real-index. Queries are fresh draws from the same distribution, searched one at a time (as `ask` does);
recall@10 is measured against exact search (`Flat`) on the same vectors.

    python -m bench.search                       # 10k, 100k, 1M (1M: ~3 GB RAM, several minutes)
    python -m bench.search --sizes 10000 --json  # quick look
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

DIM = 384
PASSAGES_PER_TOPIC = 100  # about one long document or one narrow subject per topic
INTRINSIC_DIM = 64  # sentence embeddings vary along far fewer directions than they have dimensions
N_QUERIES = 200
K = 10


def synthetic_vectors(n: int, *, seed: int, n_topics: int, chunk: int = 100_000) -> np.ndarray:
    """`n` L2-normalised float32 vectors: mean direction + topic centre + noise (see module docstring)."""
    rng = np.random.default_rng(n_topics)  # the same topics for corpus and queries
    mean = rng.standard_normal(DIM).astype(np.float32)
    mean *= 0.8 / np.linalg.norm(mean)
    topics = rng.standard_normal((n_topics, DIM)).astype(np.float32)
    topics *= 0.6 / np.linalg.norm(topics, axis=1, keepdims=True)
    basis = rng.standard_normal((INTRINSIC_DIM, DIM)).astype(np.float32) / np.float32(np.sqrt(DIM))
    draw = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        within = draw.standard_normal((m, INTRINSIC_DIM), dtype=np.float32) @ basis
        within *= np.float32(0.45 / np.sqrt(INTRINSIC_DIM))  # norm ≈ 0.45
        noise = draw.standard_normal((m, DIM), dtype=np.float32) * np.float32(0.1 / np.sqrt(DIM))
        block = mean + topics[draw.integers(0, n_topics, m)] + within + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def measure(store, queries: np.ndarray, truth: np.ndarray) -> dict:
    latencies, recalls = [], []
    for q, true_ids in zip(queries, truth):
        started = time.perf_counter()
        hits = store.search(q, K)
        latencies.append((time.perf_counter() - started) * 1000)
        recalls.append(len({i for i, _ in hits} & set(true_ids.tolist())) / K)
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "recall_at_10": round(float(np.mean(recalls)), 4),
    }


def real_vectors(index_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of a built index, the last N_QUERIES rows held out as queries."""
    from rag.store.index import Index

    vectors = np.ascontiguousarray(Index.open(index_dir).vectors_array(), dtype=np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(vectors))
    return vectors[order[N_QUERIES:]], vectors[order[:N_QUERIES]]


def run(sizes: list[int], *, hnsw_max_rows: int, nprobes: list[int], real_index: str | None = None,
        lists: int | None = None, ef_searches: tuple[int, ...] = (64,)) -> list[dict]:
    import faiss

    from rag.store.vectorstore import FaissStore, choose_index_type, default_search_params, ivf_lists

    rows: list[dict] = []
    datasets = [(n, None) for n in sizes] + ([(0, real_index)] if real_index else [])
    for n, real in datasets:
        if real:
            vectors, queries = real_vectors(real)
            n, label = len(vectors), "real e5"
        else:
            topics = max(50, n // PASSAGES_PER_TOPIC)
            vectors = synthetic_vectors(n, seed=n, n_topics=topics)
            queries = synthetic_vectors(N_QUERIES, seed=7, n_topics=topics)
            label = "synthetic"
        exact = FaissStore.build(vectors, "Flat")
        _, truth = exact.index.search(queries, K)  # batched ground truth
        default_type = choose_index_type(n)
        rows.append(_row(label, n, "Flat", "", 0.0, exact, queries, truth, default_type))
        del exact
        ivf = f"IVF{lists or ivf_lists(n)},SQ8"
        started = time.perf_counter()
        store = FaissStore.build(vectors, ivf)
        build_s = time.perf_counter() - started
        for nprobe in nprobes:
            store.search_params = f"nprobe={nprobe}"
            faiss.ParameterSpace().set_index_parameters(store.index, store.search_params)
            rows.append(_row(label, n, ivf, store.search_params, build_s, store, queries, truth, default_type))
        rows[-len(nprobes) :] = [
            r | {"default": r["default"] and r["search_params"] == default_search_params(ivf)}
            for r in rows[-len(nprobes) :]
        ]
        del store
        if n <= hnsw_max_rows:
            started = time.perf_counter()
            store = FaissStore.build(vectors, "HNSW32,Flat")
            build_s = time.perf_counter() - started
            for ef in ef_searches:
                store._ef_search = ef
                rows.append(_row(label, n, "HNSW32,Flat", f"efSearch={ef}", build_s, store, queries, truth,
                                 default_type))
            del store
        del vectors
    return rows


def _row(data, n, index_type, params, build_s, store, queries, truth, default_type) -> dict:
    row = {"data": data, "rows": n, "index_type": index_type, "search_params": params, "build_s": round(build_s, 1)}
    row |= measure(store, queries, truth)
    row["default"] = index_type == default_type
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(row), flush=True)
    return row


def markdown(rows: list[dict]) -> str:
    lines = [
        "| vectors | rows | index | search params | build s | p50 ms | p95 ms | recall@10 vs exact | default |",
        "|---|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['rows']:,} | {r['index_type']} | {r['search_params'] or '—'} | {r['build_s']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['recall_at_10']:.3f} | {'yes' if r['default'] else ''} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--nprobes", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--hnsw-max-rows", type=int, default=100_000,
                        help="skip HNSW above this size (its build takes long on two cores)")
    parser.add_argument("--ivf-lists", type=int, help="IVF list count (default: rag.store.vectorstore.ivf_lists)")
    parser.add_argument("--ef-search", type=int, nargs="+", default=[64])
    parser.add_argument("--real-index", help="also measure on the vectors of this built index (200 held out)")
    parser.add_argument("--json", action="store_true", help="print only JSON lines")
    args = parser.parse_args(argv)
    rows = run(args.sizes, hnsw_max_rows=args.hnsw_max_rows, nprobes=args.nprobes, real_index=args.real_index,
               lists=args.ivf_lists, ef_searches=tuple(args.ef_search))
    if not args.json:
        print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
