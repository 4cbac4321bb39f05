"""Load time, time to first token and decode speed of the offline GGUF chat models through llama.cpp.

Each model is measured twice, with and without llama.cpp's RAM prefix cache, on ~600-token Chinese prompts that
share one fixed system prompt: question A, then B (other passages), then A again (a repeated question).

    python -m bench.bench_generators [--models qwen2.5-coder-0.5b ...] [--max-tokens 64] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from rag.generation import offline_models
from rag.generation.base import forget_loaded_models
from rag.generation.llamacpp import LlamaCppGenerator

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "data" / "demo"
SYSTEM_PROMPT = (
    "你是一个严谨的中文文档问答助手。只根据用户给出的资料回答问题，不要编造资料中没有的内容。"
    "回答要简洁、准确，先给出结论，再说明依据，并在句末用方括号标出所依据的资料编号，例如【资料1】。"
    "如果资料中没有答案，请直接回答“资料中没有相关信息”。"
)


def passages(document_index: int, target_chars: int) -> str:
    """About ``target_chars`` characters from one demo document, as numbered passages."""
    files = sorted(DEMO_CORPUS.glob("*.txt"))
    text = files[document_index % len(files)].read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.splitlines() if len(p.strip()) > 20]
    chosen, size = [], 0
    for paragraph in paragraphs:
        if size >= target_chars:
            break
        chosen.append(f"【资料{len(chosen) + 1}】{paragraph}")
        size += len(paragraph)
    return "\n".join(chosen)


# Questions the passages answer at length, so that decoding runs long enough to be timed.
QUESTIONS = ["浈江区在人才振兴方面采取了哪些措施？请逐条详细列出，并写出每条中的具体数字。",
             "乳源在党建引领基层治理方面有哪些做法和成效？请逐条详细列出，并写出每条中的具体数字。"]


def messages_for(document_index: int, target_chars: int) -> list[dict]:
    question = QUESTIONS[document_index % len(QUESTIONS)]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"资料：\n{passages(document_index, target_chars)}\n\n问题：{question}"},
    ]


def evict_from_page_cache(path: Path) -> None:
    """So the load time is that of a cold start (only this file's pages are dropped)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed_answer(generator: LlamaCppGenerator, messages: list[dict], max_tokens: int) -> dict:
    llm = generator._loaded().llm
    prompt_tokens = len(llm.tokenize(generator.render_prompt(messages).encode(), add_bos=False, special=True))
    started = time.perf_counter()
    first = last = None
    pieces = []
    for piece in generator.stream(messages, max_tokens=max_tokens):
        last = time.perf_counter()
        first = first or last
        pieces.append(piece)
    done = time.perf_counter()  # after the last piece: llama.cpp saves the prefix-cache state here
    answer = "".join(pieces)
    completion_tokens = len(llm.tokenize(answer.encode(), add_bos=False, special=False))
    return {
        "prompt_tokens": prompt_tokens,
        "ttft_s": round(first - started, 2),
        "completion_tokens": completion_tokens,
        "decode_tok_s": round((completion_tokens - 1) / (last - first), 1) if completion_tokens > 1 else None,
        "after_last_token_s": round(done - last, 2),
        "total_s": round(done - started, 2),
        "answer_start": answer[:40],
    }


def bench_model(key: str, target_chars: int, max_tokens: int) -> dict:
    path = offline_models.assemble(key)
    results = {"model": key, "file_mb": round(path.stat().st_size / 1e6)}
    for prefix_cache in (False, True):
        forget_loaded_models()
        evict_from_page_cache(path)
        generator = LlamaCppGenerator(path, prefix_cache=prefix_cache)
        started = time.perf_counter()
        generator._loaded()  # the model only: warm_up() also evaluates the answer prompts' heads
        load_s = round(time.perf_counter() - started, 2)
        question_a, question_b = messages_for(0, target_chars), messages_for(1, target_chars)
        runs = {
            "A (cold)": timed_answer(generator, question_a, max_tokens),
            "B (same system prompt)": timed_answer(generator, question_b, max_tokens),
            "A again": timed_answer(generator, question_a, max_tokens),
        }
        results["cache" if prefix_cache else "no_cache"] = {"load_s": load_s, "runs": runs}
        generator._loaded().llm.close()
    forget_loaded_models()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=[k for k in offline_models.installed_models()])
    parser.add_argument("--chars", type=int, default=700, help="characters of passages per prompt (~600 tokens)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    all_results = []
    for key in args.models:
        result = bench_model(key, args.chars, args.max_tokens)
        all_results.append(result)
        for mode in ("no_cache", "cache"):
            print(f"{key} prefix cache {'on ' if mode == 'cache' else 'off'}  load {result[mode]['load_s']} s")
            for name, run in result[mode]["runs"].items():
                print(
                    f"  {name:24} prompt {run['prompt_tokens']:5} tok  TTFT {run['ttft_s']:6} s  "
                    f"decode {run['decode_tok_s']} tok/s ({run['completion_tokens']} tok)  "
                    f"after last {run['after_last_token_s']} s  total {run['total_s']} s"
                    f"  {run['answer_start']!r}"
                )
    if args.json:
        args.json.write_text(json.dumps(all_results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
