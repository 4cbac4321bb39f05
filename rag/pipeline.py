"""Question → standalone query → passages → (refusal | answer) → verified citations.

The data path, top to bottom (each step is its own module and testable alone):
rag/followup.py rewrites a follow-up; the retriever finds the top ``k`` passages;
rag/refusal.py decides from retrieval and question content whether to try at all; the
generator (an LLM through rag/prompting.py, or rag/extractive.py) answers from the top
``context_passages``; rag/citations.py keeps only citations the passages support; no
verified citation, or none that answers the question → the extractive answer from the same
passages when an LLM failed (``details["fallback"]``, ``generator`` = "extractive"), else
refusal. ``__init__`` only stores configuration: models load on first use.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from rag.citations import verify_citations
from rag.extractive import ENGLISH_QUOTE_PREFIX, ExtractiveAnswerer, analyse_question
from rag.followup import rewrite_followup
from rag.language import detect_language
from rag.prompting import CONTEXT_PASSAGES, build_messages
from rag.refusal import check_answer, check_content, check_retrieval, refusal_text, supports_fallback
from rag.schema import Answer, Passage


class Pipeline:
    """Answers questions over one retriever with one generator (None → extractive)."""

    def __init__(
        self,
        retriever,
        generator=None,
        *,
        k: int = 5,
        context_passages: int = CONTEXT_PASSAGES,
        max_tokens: int = 256,
    ):
        """An English question's terms meet Chinese passages in the refusal and extractive
        checks through the retriever's own translation (``retriever.translate``, see
        rag/crosslingual), when it has one."""
        self.retriever = retriever
        self.generator = generator
        self.k = k
        self.context_passages = context_passages
        self.max_tokens = max_tokens
        self._extractive = ExtractiveAnswerer()

    @property
    def generator_name(self) -> str:
        return self.generator.name if self.generator is not None else self._extractive.name

    @property
    def model_name(self) -> str:
        return (self.generator.model or "") if self.generator is not None else ""

    def prompt_for(self, question: str, passages: list[Passage]) -> list[dict]:
        """The exact messages an LLM gets for ``question`` over the top passages (``--show-prompt``)."""
        context = passages[: self.context_passages]
        return build_messages(question, context, analysis=self._analyse(question, context))

    def ask(self, question: str, history: list[dict] | None = None) -> Answer:
        answer = None
        for item in self.ask_stream(question, history):
            if isinstance(item, Answer):
                answer = item
        return answer

    def ask_stream(self, question: str, history: list[dict] | None = None) -> Iterator[str | Answer]:
        """Answer text pieces as they are generated, then the verified Answer (last item).

        The streamed pieces are the model's raw text; the final Answer's text is what the
        checks kept (citations renumbered, unsupported sentences dropped), so a UI should
        replace the streamed text with it.
        """
        started = time.perf_counter()
        language = detect_language(question)
        query = rewrite_followup(question, history, self.generator)
        passages = self.retriever.search(query, k=self.k)
        # An LLM reads only the top few (prompt length is time to first token); the extractive
        # answerer costs nothing per passage, so it looks at all k.
        context = passages[: self.context_passages] if self.generator is not None else passages
        senses, shown = self._translation(query, context)
        analysis = analyse_question(query, term_groups=senses)
        details: dict = {}
        if shown:
            details["translated_terms"] = shown

        def finish(text: str, refused: bool, citations=(), prompt=None, decision=None, report=None,
                   generator: str | None = None) -> Answer:
            timings = {"total_s": round(time.perf_counter() - started, 3)}
            if decision is not None and decision.refused:
                details["refusal"] = decision.to_json()
            if report is not None:
                details["citation_check"] = report
            return Answer(
                question=question,
                answer=text,
                refused=refused,
                generator=generator or self.generator_name,
                model="" if generator == self._extractive.name else self.model_name,
                citations=list(citations),
                passages=passages,
                query=query,
                prompt=prompt,
                details={"timings": timings, **details} if details else {"timings": timings},
            )

        decision = check_retrieval(passages)
        if not decision.refused:
            decision = check_content(analysis, context)
        if decision.refused:
            text = refusal_text(query, language, decision)
            yield text
            yield finish(text, True, decision=decision)
            return

        prompt = None
        if self.generator is None:
            raw = self._extractive_raw(query, context, analysis)
        else:
            prompt = build_messages(query, context, analysis=analysis, language=language)
            pieces = []
            first = None
            for piece in self.generator.stream(prompt, max_tokens=self.max_tokens, temperature=0.0):
                if first is None:
                    first = time.perf_counter() - started
                pieces.append(piece)
                yield piece
            raw = "".join(pieces)
            details["raw_answer"] = raw
            if first is not None:
                details["ttft_s"] = round(first, 3)

        text, citations, report = verify_citations(raw, context)
        decision = check_answer(citations, analysis, _kept_sentences(report))
        answered_by = self.generator_name
        if (decision.refused and self.generator is not None and not _model_declined(raw)
                and supports_fallback(analysis, context)):
            # Retrieval and content checks passed, so the passages hold the answer: the
            # model just failed to state it verifiably (a model that says the documents do
            # not answer is believed: its "no" is evidence, its numbers are not). Answer with the extractive
            # sentences instead of refusing, and say who answered.
            text2, citations2, report2 = self._extractive_answer(query, context, analysis)
            decision2 = check_answer(citations2, analysis, _kept_sentences(report2))
            if not decision2.refused:
                # citation_check keeps the model's answer check; the fallback carries its own.
                details["fallback"] = {"from": self.generator_name, "model": self.model_name,
                                       "reason": decision.reason, "citation_check": report2}
                text, citations, decision = text2, citations2, decision2
                answered_by = self._extractive.name
        if decision.refused:
            text = refusal_text(query, language, decision)
            if self.generator is None:
                yield text
            yield finish(text, True, prompt=prompt, decision=decision, report=report)
            return
        if answered_by == self._extractive.name and language != "zh":
            text = ENGLISH_QUOTE_PREFIX + text
        if self.generator is None:
            yield text
        yield finish(text, False, citations, prompt=prompt, report=report, generator=answered_by)

    def _extractive_raw(self, query: str, passages: list[Passage], analysis) -> str:
        raw = self._extractive.answer(query, passages, analysis)
        return raw[len(ENGLISH_QUOTE_PREFIX) :] if raw.startswith(ENGLISH_QUOTE_PREFIX) else raw

    def _extractive_answer(self, query: str, passages: list[Passage], analysis):
        """The extractive answer over ``passages``, verified like any other."""
        return verify_citations(self._extractive_raw(query, passages, analysis), passages)

    def _translation(self, query: str, passages: list[Passage] = ()) -> tuple[list, list[str]]:
        """A question in another language than the documents: its translated term groups
        (rag/crosslingual), each led by the sense the top passages use, and the terms to show
        (phrases the passages hold included); nothing for a question in the documents'
        language or a retriever without translation."""
        if detect_language(query) == "zh":
            return [], []
        translate = getattr(self.retriever, "translate", None)
        xq = translate(query) if callable(translate) else None
        if xq is None:
            return [], []
        groups = xq.senses_in([p.text for p in passages[:3]], phrases=True)
        shown = list(dict.fromkeys(g.alternatives[0] for g in groups))
        return [g for g in groups if g.kind != "phrase"], shown

    def _analyse(self, query: str, passages: list[Passage] = ()):
        return analyse_question(query, term_groups=self._translation(query, passages)[0])


def _kept_sentences(report: dict) -> list[str]:
    """The answer sentences the citation check kept (with a verified citation)."""
    return [s["text"] for s in report.get("sentences", []) if s.get("status") != "dropped"]


def _model_declined(raw: str) -> bool:
    """The model's own "the documents do not say" (system prompts, rule 5/7)."""
    text = raw.strip().lower()
    return text.startswith(("the documents do not say", "文档中没有找到")) or (
        not re.search(r"\[\d", text) and ("do not say" in text or "没有找到" in text)
    )
