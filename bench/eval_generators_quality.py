"""How well each offline GGUF model answers the seed questions when handed the right passages.

Retrieval is taken out of the comparison: the top-3 paragraphs by character-bigram overlap with the question
(enough to contain the evidence for the seed set) go into a fixed prompt; the answer is graded by the eval set's
keyword rule and by whether it cites a passage. Used to choose the default offline model.

    python -m bench.eval_generators_quality [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--eval FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

from rag.generation import offline_models
from rag.generation.base import forget_loaded_models
from rag.generation.llamacpp import LlamaCppGenerator
from rag.text.bigrams import char_bigrams

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PROMPT = (
    "你是中文文档问答助手。只根据用户给出的资料回答问题，用一两句话直接给出答案，"
    "并在句末用方括号注明所依据的资料编号。资料中没有答案时，回答“资料中没有相关信息”。"
)


def paragraphs(corpus: Path, max_chars: int = 300) -> list[str]:
    """The corpus split into paragraphs, long ones cut into ``max_chars`` pieces."""
    pieces = []
    for path in sorted(corpus.glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8").splitlines():
            paragraph = paragraph.strip()
            for start in range(0, len(paragraph), max_chars):
                if len(paragraph[start : start + max_chars]) >= 10:
                    pieces.append(paragraph[start : start + max_chars])
    return pieces


def top_passages(question: str, corpus: list[str], k: int = 3) -> list[str]:
    wanted = char_bigrams(question)
    return sorted(corpus, key=lambda p: len(wanted & char_bigrams(p)), reverse=True)[:k]


def normalise(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3})", "", re.sub(r"\s+", "", text)).lower()


def keywords_right(answer: str, keywords: list) -> bool:
    answer = normalise(answer)
    return all(
        any(normalise(k) in answer for k in (keyword if isinstance(keyword, list) else [keyword]))
        for keyword in keywords
    )


def evaluate(key: str, questions: list[dict], corpus: list[str], max_tokens: int) -> dict:
    forget_loaded_models()
    generator = LlamaCppGenerator(offline_models.assemble(key))
    generator.warm_up()
    right, cited, refused_unanswerable, lengths, seconds, rows = 0, 0, 0, [], [], []
    for item in questions:
        passages = top_passages(item["question"], corpus)
        numbered = "\n".join(f"[{n}] {p}" for n, p in enumerate(passages, start=1))
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"资料：\n{numbered}\n\n问题：{item['question']}"},
        ]
        started = time.perf_counter()
        answer = generator.complete(messages, max_tokens=max_tokens).strip()
        seconds.append(time.perf_counter() - started)
        refused = "没有相关信息" in answer
        if item["answerable"]:
            ok = not refused and keywords_right(answer, item["answer_keywords"])
            right += ok
            lengths.append(len(re.sub(r"\s|\[\d+\]", "", answer)))
        else:
            ok = refused
            refused_unanswerable += refused
        cited += bool(re.search(r"\[\d\]", answer))
        rows.append({"qid": item["qid"], "ok": ok, "answer": answer})
    answerable = sum(q["answerable"] for q in questions)
    forget_loaded_models()
    return {
        "model": key,
        "keywords_right": f"{right}/{answerable}",
        "cites_a_passage": f"{cited}/{len(questions)}",
        "unanswerable_refused": f"{refused_unanswerable}/{len(questions) - answerable}",
        "median_answer_chars": statistics.median(lengths) if lengths else None,
        "median_seconds_per_question": round(statistics.median(seconds), 1),
        "answers": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval" / "seed_dev.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.eval.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = paragraphs(args.corpus)
    results = []
    for key in args.models:
        result = evaluate(key, questions, corpus, args.max_tokens)
        results.append(result)
        print({k: v for k, v in result.items() if k != "answers"}, flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
