"""Time to the first answer token with the default chat model, with and without the answerability check.

Each checkout is measured in its own process (one chat model loaded at a time), one after the other in the same
run: it indexes the seed corpus (data/demo) into a temporary folder, loads the default generator (`auto`:
Qwen2.5-Coder-1.5B through llama.cpp), warms it up as `yuanwen serve` does, then asks every question of each eval
file through `Pipeline.ask`, once with the answerability check and once without (alternating which goes first).
TTFT is the pipeline's own `ttft_s`: from the question to the first streamed piece, retrieval and checks included —
what a user at the chat box waits. The model's context is reset before each question (the saved prompt head is
restored in milliseconds), so a question never starts from the previous prompt: the two modes often build the same
prompt, and the second would otherwise be answered from llama.cpp's cache. A follow-up question (an eval row with
``history``) is asked after its earlier questions in the same chat, and its TTFT includes the model's rewrite of
the follow-up. Questions refused before the model is called have none. Prompt tokens are counted with the model's
tokenizer on the exact prompt. Answer quality is `yuanwen eval`'s metrics (rag/metrics.py) on the same answers.

    python -m bench.ttft                                   # this checkout, seed_dev and seed_dev_en
    python -m bench.ttft --baseline ../yuanwen-before      # and a checkout of an earlier commit, first (check on)
    python -m bench.ttft --files ../shared/eval/seed_dev.jsonl --modes on
    python -m bench.ttft --files ../shared/eval/seed_dev_followup.jsonl --modes on --baseline ../yuanwen-before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
FILES = [EVAL / "seed_dev.jsonl", EVAL / "seed_dev_en.jsonl"]
CORPUS = ROOT / "data" / "demo"


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 3)


def worker(files: list[Path], modes: list[str], corpus: Path) -> dict:
    """Runs inside the checkout under test (its rag/ on PYTHONPATH)."""
    from rag.generation import load_generator
    from rag.ingest.indexing import update_index
    from rag.app.metrics import compute_metrics, load_questions
    from rag.answer.pipeline import Pipeline
    from rag.app.builder import make_retriever
    from rag.app.config import Settings

    out: dict = {"load_avg_1m_before": round(os.getloadavg()[0], 2), "files": {}}
    with tempfile.TemporaryDirectory() as tmp:
        update_index([corpus], Path(tmp) / "index")
        retriever = make_retriever(Settings(index=str(Path(tmp) / "index")))
        generator = load_generator("auto", None)
        started = time.perf_counter()
        generator.warm_up()
        out["generator"] = generator.model
        out["warm_up_s"] = round(time.perf_counter() - started, 2)
        llm = generator._loaded().llm
        pipes = {mode: Pipeline(retriever, generator, k=10, answerability=(mode == "on")) for mode in modes}
        for path in files:
            questions = load_questions(path)
            rows: dict[str, list] = {mode: [] for mode in modes}
            for i, q in enumerate(questions):
                for mode in (modes if i % 2 == 0 else modes[::-1]):
                    llm.reset()  # a new chat: the head is restored from its saved state, the rest prefilled
                    history: list[dict] = []  # a follow-up's earlier questions are asked first, as in `yuanwen eval`
                    for earlier in q.history:
                        previous = pipes[mode].ask(earlier, history or None)
                        history += [{"role": "user", "content": earlier},
                                    {"role": "assistant", "content": previous.answer}]
                    answer = pipes[mode].ask(q.question, history or None)
                    prompt = generator.render_prompt(answer.prompt) if answer.prompt else None
                    rows[mode].append({
                        "qid": q.qid, "answer": answer.answer, "refused": answer.refused,
                        "citations": [c.to_json() for c in answer.citations],
                        "passages": [p.to_json() for p in answer.passages[:10]],
                        "ttft_s": answer.details.get("ttft_s"),
                        "prompt_tokens": len(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
                        if prompt else None,
                        "total_s": answer.details.get("timings", {}).get("total_s"),
                    })
            result = {}
            for mode in modes:
                ttfts = [r["ttft_s"] for r in rows[mode] if r["ttft_s"] is not None]
                tokens = [r["prompt_tokens"] for r in rows[mode] if r["prompt_tokens"]]
                metrics = compute_metrics(questions, rows[mode])
                result[mode] = {
                    "questions": len(questions), "reached_model": len(ttfts),
                    "ttft_p50_s": percentile(ttfts, 0.5), "ttft_p95_s": percentile(ttfts, 0.95),
                    "prompt_tokens_median": statistics.median(tokens) if tokens else None,
                    **{k: metrics.get(k) for k in ("answer_keyword_accuracy", "citation_precision",
                                                   "refusal_accuracy", "false_refusal_rate")},
                    "per_question": [{k: r[k] for k in ("qid", "ttft_s", "prompt_tokens", "refused", "answer")}
                                     for r in rows[mode]],
                }
            out["files"][path.name] = result
    out["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    return out


def run_checkout(checkout: Path, files: list[Path], modes: list[str], corpus: Path) -> dict:
    """The worker in a fresh process with ``checkout`` first on the path."""
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        env = os.environ | {"PYTHONPATH": str(checkout)}
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "--out", result.name,
                        "--corpus", str(corpus), "--modes", *modes, "--files", *map(str, files)],
                       check=True, env=env, cwd=checkout)
        return json.loads(Path(result.name).read_text())


def table(results: dict[str, dict]) -> str:
    lines = ["| code | eval file | answerability | reached model | prompt tokens (median) | TTFT p50 s | TTFT p95 s |"
             " keyword acc. | citation precision | refusal acc. | false refusals |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for code, result in results.items():
        for name, modes in result["files"].items():
            for mode, r in modes.items():
                lines.append(f"| {code} | {name} | {mode} | {r['reached_model']}/{r['questions']} | "
                             f"{r['prompt_tokens_median']} | {r['ttft_p50_s']} | {r['ttft_p95_s']} | "
                             f"{r['answer_keyword_accuracy']} | {r['citation_precision']} | {r['refusal_accuracy']} | "
                             f"{r['false_refusal_rate']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ttft", description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", type=Path, default=FILES)
    parser.add_argument("--modes", nargs="+", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, measured first")
    parser.add_argument("--baseline-modes", nargs="+", choices=["on", "off"], default=["on"])
    parser.add_argument("--baseline-files", nargs="+", type=Path, help="eval files for the baseline (default: --files)")
    parser.add_argument("--json", type=Path, help="write every figure, per question too, to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    files = [p.resolve() for p in args.files]
    if args.worker:
        args.out.write_text(json.dumps(worker(files, args.modes, args.corpus.resolve()), ensure_ascii=False))
        return 0
    results = {}
    if args.baseline:
        baseline_files = [p.resolve() for p in args.baseline_files] if args.baseline_files else files
        results[f"baseline ({args.baseline.name})"] = run_checkout(args.baseline.resolve(), baseline_files,
                                                                     args.baseline_modes, args.corpus.resolve())
    results["this checkout"] = run_checkout(ROOT, files, args.modes, args.corpus.resolve())
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    for code, r in results.items():
        print(f"{code}: {r['generator']}, warm-up {r['warm_up_s']} s, load average "
              f"{r['load_avg_1m_before']} → {r['load_avg_1m_after']}")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
