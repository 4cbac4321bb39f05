"""The exact messages sent to a chat model for one question.

Prompt length dominates time to first token on a CPU (prefill ≈ 34 tok/s for the 1.5B
model), so the context is short: the top ``context_passages`` passages only, and of each
the answer-bearing sentence with its neighbours instead of the whole passage. The system
text is fixed (no per-question variables) so an engine's prefix cache can reuse it.
Passage numbers in the prompt are positions in the list given, which is also what
citation checking (rag/answer/citations.py) reads ``[n]`` against.
"""

from __future__ import annotations

import prompts
from rag.answer.extractive import QuestionAnalysis, analyse_question, rank_candidates
from rag.text.language import detect_language, sentence_spans
from rag.schema import Passage

CONTEXT_PASSAGES = 3
EXCERPT_CHARS = 240  # a passage shorter than this goes in whole
NEIGHBOURS = 1  # sentences kept on each side of the answer-bearing one
_GAP = "……"


def excerpt(passage: Passage, analysis: QuestionAnalysis, *, max_chars: int = EXCERPT_CHARS) -> str:
    """The answer-bearing sentence of ``passage`` with its neighbours (text copied verbatim)."""
    text = passage.text.strip()
    if len(text) <= max_chars:
        return text
    spans = sentence_spans(passage.text)
    best = rank_candidates(analysis, [passage])
    if not spans or not best:
        return text[:max_chars] + _GAP
    j = next(i for i, s in enumerate(spans) if s == best[0].sentence)
    a, b = j, j
    # Grow around the best sentence while it fits, nearer neighbours first.
    for _ in range(NEIGHBOURS):
        for cand in (a - 1, b + 1):
            if 0 <= cand < len(spans):
                lo, hi = min(a, cand), max(b, cand)
                if spans[hi][1] - spans[lo][0] <= max_chars:
                    a, b = lo, hi
    start, end = spans[a][0], spans[b][1]
    if end - start > max_chars:  # one very long sentence: keep the window around the answer clause
        mid = (best[0].start + best[0].end) // 2
        start = max(start, min(mid - max_chars // 2, end - max_chars))
        end = min(end, start + max_chars)
    body = passage.text[start:end].strip()
    return (_GAP if start > 0 else "") + body + (_GAP if end < len(passage.text.rstrip()) else "")


def build_messages(
    question: str,
    passages: list[Passage],
    *,
    analysis: QuestionAnalysis | None = None,
    language: str | None = None,
) -> list[dict]:
    """System + user messages answering ``question`` from ``passages`` (numbered 1..n in order).

    ``language`` ("zh" or other) picks the template set; by default the question's language.
    """
    language = language or detect_language(question)
    lang = "zh" if language == "zh" else "en"
    analysis = analysis or analyse_question(question)
    blocks = [
        prompts.render(
            f"passage_{lang}",
            n=i,
            title=(p.chunk.title or p.chunk.source).strip(),
            text=excerpt(p, analysis).replace("\n", " "),
        )
        for i, p in enumerate(passages, 1)
    ]
    return [
        {"role": "system", "content": prompts.render(f"system_{lang}")},
        {"role": "user", "content": prompts.render(f"answer_{lang}", passages="\n".join(blocks), question=question.strip())},
    ]
