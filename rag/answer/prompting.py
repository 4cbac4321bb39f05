"""The exact messages sent to a chat model for one question.

Prompt length is time to first token on a CPU (the 1.5B model prefills ≈ 50–100 tokens/s on two
cores; docs/benchmarks.md), so the model reads evidence, not passages: the sentences the
answerability stage accepted (rag/answer/answerability.py), or without that stage the best-ranked
answer-bearing sentences (rag/answer/ranking.rank_candidates), at most ``EVIDENCE_SENTENCES`` of them
and ``EVIDENCE_CHARS`` characters in all, each quoted verbatim under the number of the passage it
comes from. Citation checking (rag/answer/citations.py) reads ``[n]`` against that same passage, so a
passage with nothing selected is simply left out. The system text is fixed (no per-question
variables) so the engine keeps it as a cached prefix (rag/generation/llamacpp.py).
"""

from __future__ import annotations

import prompts
from rag.answer.question import QuestionAnalysis, analyse_question
from rag.answer.ranking import NUMBER, Candidate, has_answer_type, rank_candidates, term_hits
from rag.text.language import detect_language
from rag.schema import Passage

CONTEXT_PASSAGES = 3
EVIDENCE_SENTENCES = 3  # sentences quoted to the model, best first
EVIDENCE_CHARS = 240  # all quoted sentences together (≈ 170 tokens of Qwen)
SENTENCE_CHARS = 120  # a longer sentence is cut to this window around its answer-bearing clauses
_GAP = "……"
# One figure or date asked, and the best sentence that states it is one the model reads, with no other read
# sentence stating a different one: the model needs that sentence and at most one neighbour (the subject it
# omits), not a full budget of context — ≈ 50 fewer tokens to prefill, ≈ 0.5 s sooner to the first token on two
# cores (docs/benchmarks.md). Competing figures (a total and its part), places, people and lists keep the full
# budget: their answer may lie in the second or third sentence.
ONE_ANSWER_TYPES = ("number", "money", "time")
CLEAR_SENTENCES = 2
CLEAR_CHARS = 160


def evidence_budget(analysis: QuestionAnalysis, accepted: list[Candidate] | None, passages: list[Passage],
                    read: int = CONTEXT_PASSAGES) -> tuple[int, int]:
    """(sentences, characters) to quote: the short budget when one value is asked and the best accepted
    sentence is in the ``read`` top passages and no other accepted sentence there states another value."""
    full = EVIDENCE_SENTENCES, EVIDENCE_CHARS
    if analysis.answer_type not in ONE_ANSWER_TYPES or not accepted or accepted[0].passage >= read:
        return full
    first = accepted[0]
    text = _sentence(passages, first)
    values, covered = set(NUMBER.findall(text)), len(term_hits(analysis, text))
    for c in accepted[1:]:
        if c.passage >= read or (c.passage, c.sentence) == (first.passage, first.sentence):
            continue
        text = _sentence(passages, c)
        # another figure in a sentence that covers the question as well: a rival answer the model must see
        if (set(NUMBER.findall(text)) - values and len(term_hits(analysis, text)) >= covered
                and has_answer_type(analysis, text)):
            return full
    return CLEAR_SENTENCES, CLEAR_CHARS


def _sentence(passages: list[Passage], c: Candidate) -> str:
    return passages[c.passage].text[c.sentence[0] : c.sentence[1]]


def select_evidence(passages: list[Passage], candidates: list[Candidate], *, sentences: int = EVIDENCE_SENTENCES,
                    max_chars: int = EVIDENCE_CHARS) -> dict[int, list[tuple[int, int]]]:
    """Spans to quote, per passage index: the sentences of the best ``candidates`` (rank order), whole
    when short, else the window around the candidate's clauses; the first always, the rest while they fit."""
    chosen: dict[int, list[tuple[int, int]]] = {}
    seen: set[tuple[int, tuple[int, int]]] = set()
    used = 0
    for c in candidates:
        if len(seen) >= sentences or (c.passage, c.sentence) in seen or not 0 <= c.passage < len(passages):
            continue
        start, end = _window(c)
        if seen and used + end - start > max_chars:
            continue
        seen.add((c.passage, c.sentence))
        used += end - start
        chosen.setdefault(c.passage, []).append((start, end))
    return {i: sorted(spans) for i, spans in sorted(chosen.items())}


def _window(c: Candidate) -> tuple[int, int]:
    s0, s1 = c.sentence
    if s1 - s0 <= SENTENCE_CHARS:
        return s0, s1
    mid = (c.start + c.end) // 2
    start = max(s0, min(mid - SENTENCE_CHARS // 2, s1 - SENTENCE_CHARS))
    return min(start, c.start), max(min(s1, start + SENTENCE_CHARS), c.end)


def _answer_template(lang: str, budget: tuple[int, int]) -> str:
    """The short budget's Chinese prompt asks for one sentence in fewer words (11 tokens less to prefill); the
    English one keeps its instruction, which carries the rules for Chinese numbers and names."""
    return "answer_one_zh" if lang == "zh" and budget == (CLEAR_SENTENCES, CLEAR_CHARS) else f"answer_{lang}"


def quote(passage: Passage, spans: list[tuple[int, int]]) -> str:
    """The spans of ``passage`` in text order, verbatim, ``……`` where text is left out."""
    text = passage.text
    parts = []
    previous_end = 0
    for start, end in spans:
        if start > previous_end and text[previous_end:start].strip():
            parts.append(_GAP)
        parts.append(text[start:end].strip())
        previous_end = end
    if text[previous_end:].strip():
        parts.append(_GAP)
    return "".join(parts).replace("\n", " ")


def build_messages(
    question: str,
    passages: list[Passage],
    *,
    analysis: QuestionAnalysis | None = None,
    language: str | None = None,
    evidence: list[Candidate] | None = None,
    ranked: list[Candidate] | None = None,
    budget: tuple[int, int] = (EVIDENCE_SENTENCES, EVIDENCE_CHARS),
) -> list[dict]:
    """System + user messages answering ``question`` from ``passages`` (numbered 1..n in order).

    ``evidence``: the candidates to quote first (the answerability stage's accepted ones, best first);
    the best-ranked candidates of ``passages`` (``ranked``, when the caller has ranked them already) fill
    the rest of the ``budget`` (sentences, characters; ``evidence_budget``). ``language`` ("zh" or other) picks the template set; by
    default the question's language.
    """
    language = language or detect_language(question)
    lang = "zh" if language == "zh" else "en"
    # The accepted sentences first; the best-ranked others fill the budget around them (one accepted
    # sentence often leaves out the subject, or the rest of a list, that a neighbour states).
    if ranked is None:
        ranked = rank_candidates(analysis or analyse_question(question), passages)
    candidates = list(evidence or []) + ranked
    if budget == (CLEAR_SENTENCES, CLEAR_CHARS) and candidates:
        # The short quote's second sentence is there for what the first omits (its subject, the figure's
        # context), which its own passage states: another passage's best sentence would cost its title too.
        candidates = [c for c in candidates if c.passage == candidates[0].passage]
    quoted = select_evidence(passages, candidates, sentences=budget[0], max_chars=budget[1])
    if not quoted and passages:  # no sentence to rank (e.g. a passage of one unpunctuated line): its opening
        quoted = {0: [(0, min(len(passages[0].text), EVIDENCE_CHARS))]}
    blocks = [
        prompts.render(
            f"passage_{lang}",
            n=i + 1,
            title=(passages[i].chunk.title or passages[i].chunk.source).strip(),
            text=quote(passages[i], spans),
        )
        for i, spans in quoted.items()
    ]
    return [
        {"role": "system", "content": prompts.render(f"system_{lang}")},
        {"role": "user", "content": prompts.render(_answer_template(lang, budget), passages="\n".join(blocks),
                                                   question=question.strip())},
    ]
