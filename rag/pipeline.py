"""Question → standalone query → passages → (refusal | answer) → verified citations.

The data path, top to bottom (each step is its own module and testable alone):
rag/followup.py rewrites a follow-up; the retriever finds the top ``k`` passages;
rag/refusal.py decides from retrieval and question content whether to try at all; the
generator (an LLM through rag/prompting.py, or rag/extractive.py) answers from the top
``context_passages``; rag/citations.py keeps only citations the passages support; no
verified citation → refusal. ``__init__`` only stores configuration: models load on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from rag.citations import verify_citations
from rag.extractive import ENGLISH_QUOTE_PREFIX, ExtractiveAnswerer, analyse_question
from rag.followup import rewrite_followup
from rag.language import detect_language
from rag.prompting import CONTEXT_PASSAGES, build_messages
from rag.refusal import check_answer, check_content, check_retrieval, refusal_text
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
        query_terms: Callable[[str], list[str]] | None = None,
    ):
        """``query_terms``: optional translation of a question into document-language terms,
        used to match an English question's terms against Chinese passages in the refusal and
        extractive checks; by default the retriever's own (``retriever.translate``, see
        rag/crosslingual), when it has one."""
        self.retriever = retriever
        self.generator = generator
        self.k = k
        self.context_passages = context_passages
        self.max_tokens = max_tokens
        self.query_terms = query_terms
        self._extractive = ExtractiveAnswerer()

    @property
    def generator_name(self) -> str:
        return self.generator.name if self.generator is not None else self._extractive.name

    @property
    def model_name(self) -> str:
        return (self.generator.model or "") if self.generator is not None else ""

    def prompt_for(self, question: str, passages: list[Passage]) -> list[dict]:
        """The exact messages an LLM gets for ``question`` over the top passages (``--show-prompt``)."""
        return build_messages(question, passages[: self.context_passages], analysis=self._analyse(question))

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
        translated = self._translated(query, context)
        analysis = analyse_question(query, extra_terms=translated)
        details: dict = {}
        if translated:
            details["translated_terms"] = list(translated)

        def finish(text: str, refused: bool, citations=(), prompt=None, decision=None, report=None) -> Answer:
            timings = {"total_s": round(time.perf_counter() - started, 3)}
            if decision is not None and decision.refused:
                details["refusal"] = decision.to_json()
            if report is not None:
                details["citation_check"] = report
            return Answer(
                question=question,
                answer=text,
                refused=refused,
                generator=self.generator_name,
                model=self.model_name,
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
            raw = self._extractive.answer(query, context, analysis)
            if raw.startswith(ENGLISH_QUOTE_PREFIX):
                raw = raw[len(ENGLISH_QUOTE_PREFIX) :]
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
        decision = check_answer(citations)
        if decision.refused:
            text = refusal_text(query, language, decision)
            if self.generator is None:
                yield text
            yield finish(text, True, prompt=prompt, decision=decision, report=report)
            return
        if self.generator is None:
            if language != "zh":
                text = ENGLISH_QUOTE_PREFIX + text
            yield text
        yield finish(text, False, citations, prompt=prompt, report=report)

    def _translated(self, query: str, passages: list[Passage] = ()) -> tuple[str, ...]:
        """Document-language terms of a question in another language: ``query_terms`` if given,
        else the retriever's translation with each English term's sense chosen by the passages."""
        if detect_language(query) == "zh":
            return ()
        if self.query_terms is not None:
            return tuple(self.query_terms(query))
        translate = getattr(self.retriever, "translate", None)
        xq = translate(query) if callable(translate) else None
        return tuple(xq.terms_in([p.text for p in passages[:3]])) if xq is not None else ()

    def _analyse(self, query: str):
        return analyse_question(query, extra_terms=self._translated(query))

