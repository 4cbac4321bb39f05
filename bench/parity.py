"""Same questions, same rankings? Top-10 hybrid results of each vector store, question by question.

    python -m bench.parity --sets seed,cmrc --stores faiss,milvus            # Milvus Lite, or a server:
    YUANWEN_MILVUS_URI=http://127.0.0.1:19530 python -m bench.parity --sets seed,cmrc --stores faiss,milvus
    python -m bench.parity --sets seed --stores faiss --save before.json     # rankings to compare across commits
    python -m bench.parity --sets seed --stores faiss --compare before.json

Aggregate metrics can agree while single rankings differ; this compares the ranked chunk ids of every question
(and reports hit@1/5/10, MRR@10 per store as bench.retrieval does).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.retrieval import make_retriever, prepare_set
from rag.app.metrics import compute_metrics
from rag.app.runtime import get_embedder

K = 10


def rankings(set_name: str, store: str, index_root: Path, mode: str = "hybrid") -> tuple[dict, dict]:
    """(qid → ranked chunk ids, metrics) for one set on one store."""
    index, questions, _, _ = prepare_set(set_name, index_root, store)
    retriever = make_retriever(mode, index, get_embedder(index.manifest.embedder))
    ranked, results = {}, []
    for q in questions:
        passages = retriever.search(q.question, k=K)
        ranked[q.qid] = [p.chunk.id for p in passages]
        results.append({"qid": q.qid, "passages": [p.to_json() for p in passages]})
    metrics = compute_metrics(questions, results)
    return ranked, {k: round(float(metrics.get(k, 0.0)), 3) for k in ("hit@1", "hit@5", "hit@10", "mrr@10")}


def differing(a: dict, b: dict) -> list[str]:
    return [qid for qid in a if a[qid] != b.get(qid)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="seed,cmrc")
    ap.add_argument("--stores", default="faiss,milvus")
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--index-root", default=".yuanwen/bench", type=Path)
    ap.add_argument("--save", type=Path, help="write the rankings (set → store → qid → chunk ids) as JSON")
    ap.add_argument("--compare", type=Path, help="a --save file: report questions whose ranking changed")
    args = ap.parse_args()
    saved = json.loads(args.compare.read_text()) if args.compare else {}
    out: dict = {}
    print("| set | store | questions | hit@1 | hit@5 | hit@10 | MRR@10 | top-10 differs from first store |")
    print("|---|---|---|---|---|---|---|---|")
    for set_name in args.sets.split(","):
        out[set_name] = {}
        for store in args.stores.split(","):
            ranked, m = rankings(set_name, store, args.index_root, args.mode)
            out[set_name][store] = ranked
            first = next(iter(out[set_name].values()))
            print(f"| {set_name} | {store} | {len(ranked)} | {m['hit@1']} | {m['hit@5']} | {m['hit@10']} | "
                  f"{m['mrr@10']} | {len(differing(first, ranked))} |", flush=True)
            if set_name in saved and store in saved[set_name]:
                changed = differing(saved[set_name][store], ranked)
                print(f"  vs {args.compare}: {len(changed)} of {len(ranked)} rankings changed {changed[:5]}")
    if args.save:
        args.save.write_text(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
