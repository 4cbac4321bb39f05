"""Prefill speed of the default chat model requantised to other weight formats, side by side in one process.

Prompt processing (prefill) is most of the time to the first answer token on a CPU, and llama.cpp's CPU backend
repacks some weight types at load (Q4_0, Q4_K, IQ4_NL) for faster matrix products; the default Q4_K_M file also
holds Q6_K tensors that are not repacked. This writes requantised copies of the default GGUF to a scratch folder
(llama.cpp's own quantiser, from the Q4_K_M weights), loads the original and every copy, warms each up as
`yuanwen serve` does (the answer prompt's head evaluated and saved), and then asks the same Chinese answer prompts
of each model in turn (the order alternating), each from the restored head: what is timed is what a question
prefills — the quoted sentences, the question and the closing instruction — up to its first streamed piece.

    python -m bench.prefill_formats                                   # Q4_0 Q4_K_S IQ4_NL Q8_0 BF16
    python -m bench.prefill_formats --formats Q4_0 BF16 --keep /tmp/requantised --repeats 3
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from rag.generation import offline_models
from rag.generation.llamacpp import LlamaCppGenerator, import_llama_cpp

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT.parent / "shared" / "eval" / "seed_dev.jsonl"
CORPUS = ROOT / "data" / "demo"
FORMATS = ["Q4_0", "Q4_K_S", "IQ4_NL", "Q8_0", "BF16"]


def requantise(source: Path, target: Path, weight_format: str) -> float:
    """Write ``source`` requantised to ``weight_format`` (a LLAMA_FTYPE_MOSTLY_* suffix) at ``target``; seconds."""
    llama_cpp = import_llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{weight_format}", None)
    if ftype is None:
        prefix = "LLAMA_FTYPE_MOSTLY_"
        known = sorted(n.removeprefix(prefix) for n in dir(llama_cpp) if n.startswith(prefix))
        raise ValueError(f"unknown weight format {weight_format!r}; this llama.cpp knows {', '.join(known)}")
    params.ftype = ftype
    params.allow_requantize = True  # the source is already quantised: its weights are dequantised, then quantised
    params.nthread = os.cpu_count() or 1
    started = time.perf_counter()
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params) != 0:
        raise RuntimeError(f"llama.cpp could not requantise {source.name} to {weight_format}")
    return round(time.perf_counter() - started, 1)


def tensor_types(path: Path) -> str:
    """The weight types a GGUF holds, most tensors first (norms and biases, kept in F32, left out)."""
    from gguf import GGUFReader

    counts = collections.Counter(t.tensor_type.name for t in GGUFReader(path).tensors if t.tensor_type.name != "F32")
    return " ".join(f"{name}×{n}" for name, n in counts.most_common())


def answer_prompts(n: int, questions: Path = QUESTIONS, corpus: Path = CORPUS) -> list[list[dict]]:
    """``n`` answer prompts shaped like the pipeline's (rag/answer/prompting.py): up to three sentences of a demo
    document under its title, then a seed_dev question, in the Chinese answer template."""
    import prompts

    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    asked = [json.loads(line)["question"] for line in questions.read_text(encoding="utf-8").splitlines() if line]
    result = []
    for i in range(n):
        lines = [line.strip() for line in texts[i % len(texts)].splitlines() if line.strip()]
        sentences = [s + "。" for s in "".join(lines[1:]).split("。") if len(s) > 20][3 * (i // len(texts)):][:3]
        blocks = [prompts.render("passage_zh", n=k + 1, title=lines[0][:40], text=s[:80])
                  for k, s in enumerate(sentences)]
        result.append([{"role": "system", "content": prompts.render("system_zh")},
                       {"role": "user", "content": prompts.render("answer_zh", passages="\n".join(blocks),
                                                                  question=asked[i % len(asked)])}])
    return result


def first_piece(generator: LlamaCppGenerator, messages: list[dict], decode_tokens: int) -> dict:
    """One prompt from the saved head (the context reset first): the prefilled tokens, the time to the first
    streamed piece, and the decoding speed over the next ``decode_tokens`` pieces."""
    loaded = generator._loaded()
    loaded.llm.reset()
    head = generator._head_tokens(loaded.llm, messages, loaded.openings)
    prompt = loaded.llm.tokenize(generator.render_prompt(messages).encode("utf-8"), add_bos=True, special=True)
    started = time.perf_counter()
    pieces = generator.stream(messages, max_tokens=decode_tokens + 1)
    next(pieces)
    first = time.perf_counter()
    decoded = sum(1 for _ in pieces)
    return {"prefilled": len(prompt) - len(head), "first_s": first - started,
            "decode_tok_s": decoded / (time.perf_counter() - first) if decoded else None}


def measure(models: dict[str, Path], n_prompts: int, repeats: int, decode_tokens: int = 16) -> dict[str, dict]:
    """Every model loaded and warmed up, then each prompt asked of each model in turn (the order alternating)."""
    generators = {}
    for name, path in models.items():
        generators[name] = LlamaCppGenerator(path)
        started = time.perf_counter()
        generators[name].warm_up()
        print(f"{name}: loaded and warmed up in {time.perf_counter() - started:.1f} s", flush=True)
    runs: dict[str, list[dict]] = {name: [] for name in models}
    order = list(models)
    for repeat in range(repeats):
        for i, messages in enumerate(answer_prompts(n_prompts)):
            for name in order if (repeat + i) % 2 == 0 else order[::-1]:
                runs[name].append(first_piece(generators[name], messages, decode_tokens if repeat == 0 else 0))
    results = {}
    for name, path in models.items():
        rates = [r["prefilled"] / r["first_s"] for r in runs[name]]
        decode = [r["decode_tok_s"] for r in runs[name] if r["decode_tok_s"]]
        results[name] = {
            "file_mb": round(path.stat().st_size / 1e6), "types": tensor_types(path),
            "prefilled_median": statistics.median(r["prefilled"] for r in runs[name]),
            "prefill_tok_s": round(statistics.median(rates), 1),
            "first_piece_s": round(statistics.median(r["first_s"] for r in runs[name]), 2),
            "decode_tok_s": round(statistics.median(decode), 1) if decode else None,
        }
    return results


def table(results: dict[str, dict]) -> str:
    base = next(iter(results.values()))["prefill_tok_s"]
    lines = ["| weights | file MB | tensor types | prefilled tokens (median) | prefill tok/s (median) | vs original |"
             " time to first piece s (median) | decode tok/s |", "|---|---:|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['file_mb']} | {r['types']} | {r['prefilled_median']} | {r['prefill_tok_s']} | "
                     f"{r['prefill_tok_s'] / base:.2f}× | {r['first_piece_s']} | {r['decode_tok_s']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prefill_formats", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=offline_models.DEFAULT_MODEL, help="offline model key or a .gguf path")
    parser.add_argument("--formats", nargs="+", default=FORMATS, help="LLAMA_FTYPE_MOSTLY_* suffixes")
    parser.add_argument("--prompts", type=int, default=6, help="answer prompts per repeat")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", type=Path,
                        help="write the requantised files here and reuse them (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    source = (offline_models.assemble(args.model) if args.model in offline_models.KNOWN_MODELS
              else Path(args.model).expanduser())
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        models = {f"original ({source.stem.rsplit('-', 1)[-1].upper()})": source}
        for weight_format in args.formats:
            target = folder / f"{source.stem}.{weight_format.lower()}.gguf"
            if not target.is_file():
                print(f"{weight_format}: requantised in {requantise(source, target, weight_format)} s", flush=True)
            models[weight_format] = target
        load = os.getloadavg()[0]
        results = measure(models, args.prompts, args.repeats)
    print(f"load average {load:.2f} → {os.getloadavg()[0]:.2f}")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
