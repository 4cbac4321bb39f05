"""Fit the per-query fusion weights (rag/retrieve/fusion.py) on the shared dev sets, and check them set by set.

    python -m bench.fit_fusion                 # collect, fit on all sets, leave-one-set-out, write weights
    python -m bench.fit_fusion --dry-run       # the same, without writing rag/retrieve/fusion_weights.json
    python -m bench.fit_fusion --features bias,bm25_gap,question_form --dry-run   # try other features

For every answerable question of each set the hybrid retriever's candidates (both top-50
lists), their dense and BM25 z-scores, the query features and which candidates are relevant
(the eval rule of shared/eval/README.md) are cached under ``.yuanwen/bench/fusion/`` (never in
the repository: rgb-zh-dev is evaluation-only data).

The dense share ``sigmoid(θ · features)`` is fitted by an exhaustive grid over θ for a few
features, scored on what the issue asks for: the mean MRR@10 over the sets (every set counts
equally, so CMRC2018's 3,219 questions do not drown the seed sets) with a steep penalty for
any set whose MRR@10 or hit@5 falls more than 0.005 below its better single retriever, and a
small pull towards no per-query dependence (every coefficient but the bias at 0), which breaks
ties between grid points that score the same. A grid, not gradient descent, because
MRR is a step function and a smooth listwise loss (tried first) traded the small sets for
CMRC. Leave-one-set-out refits without each set and scores that set. Metrics here rank the
candidates directly (no near-duplicate removal); ``python -m bench.retrieval`` gives the
end-to-end figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from bench.retrieval import SHARED_SETS, make_retriever, prepare_set
from rag.retrieve.fusion import FEATURES, WEIGHTS_FILE
from rag.app.metrics import is_relevant
from rag.app.runtime import get_embedder

BAR = 0.005  # the tolerance below the better single retriever
PENALTY = 10.0  # per point of MRR@10 / hit@5 below the bar
PULL = 1e-3  # towards no per-query dependence (every coefficient but the bias at 0)
# The fitted features and the coefficient values tried for each (features are O(1)).
GRID = {"bias": np.linspace(-3, 3, 9), "bm25_gap": np.linspace(-4, 2, 7),
        "bm25_top_z": np.linspace(-1.5, 1.5, 7), "dense_top_z": np.linspace(-0.6, 0.6, 7)}
DEFAULT_GRID = ",".join(GRID)
WIDE = np.linspace(-2, 2, 9)  # for a feature named with --features that GRID has no range for


def collect(name: str, index_root: Path, refresh: bool = False) -> dict:
    """Candidate arrays of every answerable question of a set, cached as .npz."""
    cache = index_root / "fusion" / f"{name}.npz"
    if cache.exists() and not refresh:
        return dict(np.load(cache))
    index, questions, _, _ = prepare_set(name, index_root)
    retriever = make_retriever("hybrid@fixed", index, get_embedder(index.manifest.embedder))
    dense_z, bm25_z, bm25, relevant, features, offsets = [], [], [], [], [], [0]
    for q in questions:
        if not q.answerable:
            continue
        inputs = retriever.fusion_inputs(q.question)
        chunks = index.chunks(inputs.rows.tolist())
        dense_z.append(inputs.dense_z)
        bm25_z.append(inputs.bm25_z)
        bm25.append(inputs.bm25)
        relevant.append(np.array([is_relevant(q, c.source, c.text) for c in chunks], dtype=bool))
        features.append(inputs.features)
        offsets.append(offsets[-1] + len(inputs.rows))
    data = {"dense_z": np.concatenate(dense_z), "bm25_z": np.concatenate(bm25_z), "bm25": np.concatenate(bm25),
            "relevant": np.concatenate(relevant), "features": np.stack(features),
            "offsets": np.array(offsets)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data)
    return data


class Padded:
    """One set's questions as padded (questions × candidates) arrays, so a fit step is a few matmuls."""

    def __init__(self, data: dict):
        offsets = data["offsets"]
        n, width = len(offsets) - 1, int(np.diff(offsets).max())
        self.mask = np.zeros((n, width), dtype=bool)
        self.dense_z, self.bm25_z, self.bm25 = (np.zeros((n, width)) for _ in range(3))
        self.relevant = np.zeros((n, width), dtype=bool)
        for i in range(n):
            a, b = offsets[i], offsets[i + 1]
            self.mask[i, : b - a] = True
            self.dense_z[i, : b - a] = data["dense_z"][a:b]
            self.bm25_z[i, : b - a] = data["bm25_z"][a:b]
            self.bm25[i, : b - a] = data["bm25"][a:b]
            self.relevant[i, : b - a] = data["relevant"][a:b]
        self.features = data["features"]

    def __len__(self) -> int:
        return len(self.features)


def ranks(scores: np.ndarray, sets: Padded, eligible: np.ndarray | None = None) -> np.ndarray:
    """Rank of the first relevant candidate per question (large when none is ranked)."""
    ok = sets.mask if eligible is None else sets.mask & eligible
    s = np.where(ok, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")  # ties: candidate order, like the retriever's row order
    rel = np.take_along_axis(sets.relevant & ok, order, axis=1)
    first = np.where(rel.any(axis=1), rel.argmax(axis=1) + 1, 10_000)
    return first


def metrics(first: np.ndarray) -> dict[str, float]:
    return {"hit@1": float(np.mean(first <= 1)), "hit@5": float(np.mean(first <= 5)),
            "mrr@10": float(np.mean(np.where(first <= 10, 1.0 / first, 0.0)))}


def dense_share(theta: np.ndarray, features: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(features @ theta, -30, 30)))


def fused(theta: np.ndarray, sets: Padded) -> np.ndarray:
    """Scores as rag.retrieve.fusion.AdaptiveFusion computes them."""
    share = dense_share(theta, sets.features)[:, None]
    return share * sets.dense_z + (1 - share) * sets.bm25_z


def baselines(sets: Padded) -> dict[str, dict]:
    fixed = np.zeros(len(FEATURES))
    return {"dense": metrics(ranks(sets.dense_z, sets)),
            "bm25": metrics(ranks(sets.bm25_z, sets, eligible=sets.bm25 > 0)),
            "fixed": metrics(ranks(fused(fixed, sets), sets))}


class Grid:
    """Every set's MRR@10 and hit@5 at every grid point, computed once; fitting on any group of sets
    (all, or all but one) is then a look-up."""

    def __init__(self, data: dict[str, Padded], features: list[str]):
        self.points = np.array(list(itertools.product(*(GRID.get(f, WIDE) for f in features))))
        self.thetas = np.zeros((len(self.points), len(FEATURES)))
        self.thetas[:, [FEATURES.index(f) for f in features]] = self.points
        self.scores = {n: np.array([[m["mrr@10"], m["hit@5"]] for m in
                                    (metrics(ranks(fused(t, d), d)) for t in self.thetas)])
                       for n, d in data.items()}
        self.bars = {}
        for n, d in data.items():
            b = baselines(d)
            self.bars[n] = np.array([max(b["dense"][k], b["bm25"][k]) - BAR for k in ("mrr@10", "hit@5")])

    def fit(self, names: list[str]) -> np.ndarray:
        dependence = np.square(np.delete(self.thetas, FEATURES.index("bias"), axis=1)).sum(axis=1)
        objective = -PULL * dependence
        for n in names:
            s = self.scores[n]
            objective += (s[:, 0] + PENALTY * np.minimum(0.0, s - self.bars[n]).sum(axis=1)) / len(names)
        return self.thetas[int(np.argmax(objective))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(SHARED_SETS))
    ap.add_argument("--index-root", default=".yuanwen/bench", type=Path)
    ap.add_argument("--refresh", action="store_true", help="recollect the candidates")
    ap.add_argument("--features", default=DEFAULT_GRID, help="features to fit (the others keep 0)")
    ap.add_argument("--dry-run", action="store_true", help="do not write rag/retrieve/fusion_weights.json")
    args = ap.parse_args()
    names = args.sets.split(",")
    features = args.features.split(",")
    data = {n: Padded(collect(n, args.index_root, args.refresh)) for n in names}
    grid = Grid(data, features)
    theta = grid.fit(names)
    loso = {n: grid.fit([o for o in names if o != n]) for n in names} if len(names) > 1 else {}
    print("hit@1 / hit@5 / MRR@10 over the candidates (no near-duplicate removal)\n")
    print("| set | questions | dense | bm25 | fixed 0.5 | adaptive (all sets) | adaptive (fit without this set) | bar |")
    print("|---|---|---|---|---|---|---|---|")
    fmt = lambda m: f"{m['hit@1']:.3f} / {m['hit@5']:.3f} / {m['mrr@10']:.3f}"  # noqa: E731
    for n in names:
        r = baselines(data[n])
        fitted = metrics(ranks(fused(theta, data[n]), data[n]))
        held = metrics(ranks(fused(loso[n], data[n]), data[n])) if n in loso else fitted
        ok = all(m["mrr@10"] >= grid.bars[n][0] and m["hit@5"] >= grid.bars[n][1] for m in (fitted, held))
        print(f"| {n} | {len(data[n])} | {fmt(r['dense'])} | {fmt(r['bm25'])} | {fmt(r['fixed'])} | "
              f"{fmt(fitted)} | {fmt(held) if n in loso else '—'} | {'met' if ok else 'MISSED'} |")
    show = lambda t: ", ".join(f"{f} {t[FEATURES.index(f)]:+.2f}" for f in features)  # noqa: E731
    print(f"\ndense share = sigmoid({show(theta)})")
    for n, t in loso.items():
        print(f"  fitted without {n}: {show(t)}")
    if not args.dry_run:
        WEIGHTS_FILE.write_text(json.dumps({
            "fitted_by": "python -m bench.fit_fusion", "sets": {n: len(data[n]) for n in names},
            "features": list(FEATURES), "dense_share": [round(float(x), 5) for x in theta]}, indent=1) + "\n",
            encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")


if __name__ == "__main__":
    main()
