"""The no-LLM answerer: the clause(s) of the retrieved passages that answer the question.

It never writes text of its own: every answer character is copied from a passage, plus
``[n]`` markers and joining punctuation. Which clause answers is decided by the shared ranking
(rag/answer/ranking.py over rag/answer/question.py's analysis); this module only chooses among
the ranked windows — the best one, and for a two-part question ("多少…排第几") a second window
that adds what the first lacks — and joins them into an answer.
"""

from __future__ import annotations

from rag.answer.question import QuestionAnalysis, analyse_question
from rag.answer.ranking import Candidate, coverage, rank_candidates, term_hits
from rag.schema import Passage

ENGLISH_QUOTE_PREFIX = "(Quoted from the Chinese source) "


class ExtractiveAnswerer:
    """Answers with cited clauses copied from the passages; instant and never invents."""

    name = "extractive"
    model = ""

    def answer(self, question: str, passages: list[Passage], analysis: QuestionAnalysis | None = None,
               candidates: list[Candidate] | None = None) -> str:
        """The answer text with ``[n]`` markers (n = 1-based index into ``passages``); "" if nothing fits.

        ``candidates``, when given, are the ranked candidates of ``passages`` to choose from (the
        pipeline's one ranking, or those its answerability judgement accepted, so the clause chosen
        states the asked attribute of the asked subject, not merely ranks best); else they are ranked here."""
        analysis = analysis or analyse_question(question)
        if candidates is None:
            candidates = rank_candidates(analysis, passages)
        if not candidates:
            return ""
        chosen = [candidates[0]]
        if analysis.asks > 1:
            second = self._second_piece(analysis, candidates, chosen[0], passages)
            if second is not None:
                chosen.append(second)
        pieces = []
        for c in sorted(chosen, key=lambda c: (c.passage, c.start)):
            piece = passages[c.passage].text[c.start : c.end].rstrip("，,；;：:。.!！?？")
            pieces.append(f"{piece}[{c.passage + 1}]")
        text = "。".join(pieces) + "。"  # one sentence per piece: each is checked against its own passage
        if analysis.language != "zh":
            text = ENGLISH_QUOTE_PREFIX + text
        return text

    @staticmethod
    def _second_piece(analysis, candidates, first, passages) -> Candidate | None:
        """For two-part questions: a typed clause window adding terms the first one lacks."""
        first_text = passages[first.passage].text[first.start : first.end]
        first_window_hits = term_hits(analysis, first_text)
        for c in candidates[1:10]:
            if c.passage == first.passage and c.start < first.end and first.start < c.end:
                continue
            if not c.typed:
                continue
            new_hits = term_hits(analysis, passages[c.passage].text[c.start : c.end]) - first_window_hits
            if coverage(analysis, new_hits) >= 0.15 and c.coverage >= 0.5 * first.coverage:
                return c
        return None
