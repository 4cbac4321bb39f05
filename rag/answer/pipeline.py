"""Question → standalone query → passages → (refusal | answer) → verified citations.

The data path, top to bottom (each step is its own module and testable alone):
rag/answer/followup.py rewrites a follow-up; the retriever finds the top ``k`` passages;
rag/answer/refusal.py decides from retrieval and question content whether to try at all, and
rag/answer/answerability.py whether any sentence of the passages states the asked attribute of the
asked subject; the generator (an LLM through rag/answer/prompting.py, or rag/answer/extractive.py) answers
from the sentences those checks accepted; rag/answer/citations.py keeps only citations the passages
support, and rag/answer/answerability.py judges each kept sentence with its supporting window. No
verified citation, or none that answers the question → the extractive answer from the same
passages when an LLM failed and that answer passes the same checks (``details["fallback"]``,
``generator`` = "extractive"), else refusal — never the failing text. ``__init__`` only
stores configuration: models load on first use.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from rag.answer.answerability import (SIMILARITY_CANDIDATES, SIMILARITY_CHARS, AskedFor, Judgement, asked_for, judge,
                                      judge_answer)
from rag.answer.similarity import SentenceSimilarity
from rag.answer.citations import verify_citations
from rag.answer.extractive import ENGLISH_QUOTE_PREFIX, ExtractiveAnswerer
from rag.answer.followup import rewrite_followup
from rag.answer.model_judge import Vouched, vouch
from rag.text.language import detect_language
from rag.answer.prompting import CONTEXT_PASSAGES, build_messages, evidence_budget
from rag.answer.question import analyse_question
from rag.answer.ranking import Candidate, rank_candidates
from rag.answer.refusal import (RefusalDecision, check_answer, check_content, check_retrieval, refusal_text,
                         supports_fallback)
from rag.schema import Answer, Citation, Passage, final_answer


# Characters of a document's opening that state what it is about (answerability carries a
# subject the answer sentence omits from there): a news lead is one or two sentences.
LEAD_CHARS = 200


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
        answerability: bool = True,
    ):
        """An English question's terms meet Chinese passages in the refusal and extractive
        checks through the retriever's own translation (``retriever.translate``, see
        rag/retrieve/crosslingual), when it has one. ``answerability=False`` leaves out the
        rag/answer/answerability checks (to measure what they cost and change; not for users)."""
        self.retriever = retriever
        self.generator = generator
        self.k = k
        self.context_passages = context_passages
        self.max_tokens = max_tokens
        self.answerability = answerability
        self._extractive = ExtractiveAnswerer()
        self._leads: dict[tuple[int, str], str] = {}
        # Meaning for the answerability stage: the retriever's own embedder (none for BM25 alone).
        embedder = getattr(retriever, "embedder", None)
        self._similarity = SentenceSimilarity(embedder) if embedder is not None else None

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
        return final_answer(self.ask_stream(question, history))

    def ask_stream(self, question: str, history: list[dict] | None = None) -> Iterator[str | Answer]:
        """Answer text pieces as they are generated, then the verified Answer (last item).

        The streamed pieces are the model's raw text; the final Answer's text is what the
        checks kept (citations renumbered, unsupported sentences dropped), so a UI should
        replace the streamed text with it.
        """
        started = time.perf_counter()
        language = detect_language(question)
        query = rewrite_followup(question, history, self.generator)
        found = self.retriever.retrieve(query, k=self.k)
        passages = found.passages
        # Every check looks at all k passages, so whether a question is answered does not depend on the
        # generator (a model used to be checked on the top 3 only, and refused what the extractive
        # answerer found in the 4th). The model still reads little: the accepted sentences and the
        # best-ranked ones of the top ``context_passages`` (rag/answer/prompting.py).
        context = passages
        senses, shown = self._translation(query, found.translation, context)
        analysis = analyse_question(query, term_groups=senses)
        details: dict = {}
        if shown:
            details["translated_terms"] = shown

        def finish(text: str, refused: bool, citations=(), prompt=None, decision=None, report=None,
                   generator: str | None = None) -> Answer:
            timings = {"total_s": round(time.perf_counter() - started, 3),
                       **{step: round(ms, 1) for step, ms in found.timings.items()}}
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

        # Which clauses of the context answer the question: ranked once, read by every stage below.
        ranked = rank_candidates(analysis, context)
        decision = check_retrieval(passages)
        if not decision.refused:
            decision = check_content(analysis, context, ranked)
        asked = asked_for(analysis, [t for p in context for t in (p.chunk.title, p.text)])
        # The extractive candidates that pass answerability (None: the stage is off, choose freely).
        accepted: list[Candidate] | None = [] if self.answerability else None
        vouched: list[Vouched] = []  # sentences the model said answer when no check accepted one (model_judge.py)
        # Meaning is weighed for a question in the documents' language (a translated question's cosines
        # sit below the floor, 0.74–0.79 on seed_dev_en: asking would only cost time).
        meaning = self._similarity if found.translation is None else None
        if meaning is not None and found.query_vector is not None and found.query == query:
            meaning.remember_query(query, found.query_vector)  # retrieval embedded it already
        # The chat model may vouch for a sentence no check accepts (rag/answer/model_judge.py), for a question
        # in the documents' language (a translated one is judged on its translated names and terms).
        judge_with = self.generator if found.translation is None else None
        # The content check weighs the question's words; a sentence that words them otherwise may
        # still state the answer: answerability decides, on its meaning as well (``reworded``).
        reworded = (decision.refused and decision.reason in ("terms", "answer_type")
                    and (meaning is not None or judge_with is not None))
        if (not decision.refused or reworded) and self.answerability:
            t0 = time.perf_counter()
            content = decision
            decision, accepted, vouched = self._answerable(asked, ranked, context, query, meaning,
                                                           reworded=reworded, language=language, judge_with=judge_with)
            details["answerability"] = {"best_score": decision.details["best_score"], "passing": len(accepted),
                                        "seconds": round(time.perf_counter() - t0, 4)}
            if "model_judge" in decision.details:
                details["answerability"]["model_judge"] = decision.details.pop("model_judge")
            if reworded:
                details["answerability"]["reworded"] = not decision.refused
                if decision.refused:
                    decision = content
        if decision.refused:
            text, cited = self._refusal(query, language, decision, context)
            yield text
            yield finish(text, True, cited, decision=decision)
            return

        prompt = None
        if self.generator is None:
            raw = self._extractive_raw(query, context, analysis, ranked if accepted is None else accepted)
        else:
            # The model reads the top passages' accepted sentences; another passage's only when the top
            # ones have none (a sentence accepted far down the list is more often the wrong one).
            top = [c for c in accepted or [] if c.passage < self.context_passages]
            prompt = build_messages(query, context, analysis=analysis, language=language,
                                    evidence=top or accepted,
                                    ranked=[c for c in ranked if c.passage < self.context_passages],
                                    budget=evidence_budget(analysis, accepted, context, self.context_passages))
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
        decision = self._check(asked, analysis, citations, report, context, details, query, meaning, vouched)
        if not decision.refused and self.generator is not None and _copies_prompt(raw):
            # Text pasted with the prompt's own quoting ("：“……", "资料（…）：“") is evidence copied, not an
            # answer, however verbatim its sentences are: the extractive fallback answers instead.
            decision = RefusalDecision(True, "copied_prompt")
        answered_by = self.generator_name
        if (decision.refused and self.generator is not None and not _model_declined(raw)
                and (decision.reason == "answerability" or bool(accepted)
                     or supports_fallback(analysis, context, ranked))):
            # Retrieval, content and answerability checks passed before answering, so a sentence of
            # the passages states the answer: the model failed to state it verifiably (no citation
            # kept: it reworded a figure, cited nothing), or stated something the passages say of
            # another subject or attribute (a model that says the documents do not answer is
            # believed: its "no" is evidence, its numbers are not). Answer with the extractive
            # sentences that pass the same checks — those answerability accepted, when it ran, else
            # a best sentence covering the question's words — and say who answered.
            fallback = self._extractive_raw(query, context, analysis, ranked if accepted is None else accepted)
            text2, citations2, report2 = verify_citations(fallback, context)
            decision2 = self._check(asked, analysis, citations2, report2, context, {}, query, meaning, vouched)
            if not decision2.refused:
                # citation_check keeps the model's answer check; the fallback carries its own.
                details["fallback"] = {"from": self.generator_name, "model": self.model_name,
                                       "reason": decision.reason, "citation_check": report2}
                text, citations, decision = text2, citations2, decision2
                answered_by = self._extractive.name
        if decision.refused:
            text, cited = self._refusal(query, language, decision, context)
            if self.generator is None:
                yield text
            yield finish(text, True, cited, prompt=prompt, decision=decision, report=report)
            return
        if answered_by == self._extractive.name and language != "zh":
            text = ENGLISH_QUOTE_PREFIX + text
        if self.generator is None:
            yield text
        yield finish(text, False, citations, prompt=prompt, report=report, generator=answered_by)

    def _answerable(self, asked: AskedFor, ranked: list[Candidate], passages: list[Passage], query: str,
                    meaning: SentenceSimilarity | None = None, reworded: bool = False, language: str = "zh",
                    judge_with=None):
        """Before answering: does any ranked sentence of ``passages`` state the asked attribute of the
        asked subject? The refusal decision (with the best candidate's judgement), the
        candidates that pass, best first (rank, plus what meaning adds), for the extractive
        answerer and the model's evidence, and the sentences the model vouched for. The best-ranked
        sentences that pass the gates are also weighed on meaning; ``reworded`` (the question's words
        are not in the passages): only a sentence whose meaning is that close may answer. When none
        passes, the sentences that pass the gates are put to ``judge_with`` (the chat model), and the one
        it vouches for most may answer (rag/answer/model_judge.py)."""
        judged = []
        for c in ranked:
            p = passages[c.passage]
            j = judge(asked, p.text[c.start : c.end], p, c.sentence[0], c.sentence[1], c.passage, lead=self._lead(p))
            j.claim_span = (c.start, c.end)
            judged.append((c, j))
        gated = [(c, j) for c, j in judged if j.gates_ok][:SIMILARITY_CANDIDATES]
        if meaning is not None and gated:
            sentences = [_around_claim(passages[c.passage].text, c) for c, _j in gated]
            for (_c, j), similarity in zip(gated, meaning(query, sentences)):
                j.weigh_similarity(similarity)
        passing = [(c, j) for c, j in judged if j.ok and (j.close_in_meaning or not reworded)]
        vouched: list[Vouched] = []
        verdicts: list[dict] = []
        if not passing and judge_with is not None:
            vouched, verdicts = vouch(judge_with, query, language,
                                      [c for c, j in judged if j.gates_ok], passages)
            for c, j in judged:
                j.vouched_by(vouched)
            passing = sorted(((c, j) for c, j in judged if j.model_yes is not None),
                             key=lambda cj: cj[1].model_yes, reverse=True)[:1]
        # Rank order, with what meaning adds above the floor (0 for a sentence not weighed on it).
        accepted = [c for c, j in sorted(passing, key=lambda cj: cj[0].score + cj[1].score - cj[1].attribute,
                                         reverse=True)]
        best = max((j.score for _c, j in judged), default=0.0)
        decision = (RefusalDecision(False) if accepted
                    else self._answerability_refusal(asked, [j for _c, j in judged]))
        decision.details["best_score"] = round(best, 3)
        if verdicts:
            decision.details["model_judge"] = verdicts
        return decision, accepted, vouched

    def _lead(self, passage: Passage) -> str:
        """The opening of the passage's document (rag/answer/answerability.judge carries a subject from it)."""
        fetch = getattr(getattr(self.retriever, "index", None), "document_text", None)
        if not callable(fetch):
            return ""
        document = passage.chunk.doc_key or passage.chunk.source
        key = (id(self.retriever.index), document)
        if key not in self._leads:
            if len(self._leads) > 4096:
                self._leads.clear()
            self._leads[key] = (fetch(document) or "")[:LEAD_CHARS]
        return self._leads[key]

    def _check(self, asked: AskedFor, analysis, citations, report: dict, passages, details: dict,
               query: str = "", meaning: SentenceSimilarity | None = None,
               vouched: list[Vouched] = ()) -> RefusalDecision:
        """After answering: verified citations (rag/answer/refusal.check_answer), then at least one kept
        sentence that, with its supporting window, passes answerability (or is the sentence the model
        vouched for before answering: ``vouched``)."""
        decision = check_answer(citations, analysis, _kept_sentences(report))
        if decision.refused or not self.answerability:
            return decision
        similarity = (lambda texts: meaning(query, texts)) if meaning is not None else None
        judgements = judge_answer(asked, report.get("sentences", []), passages, self._lead, similarity, vouched)
        details["answerability_check"] = [j.to_json() for j in judgements[:3]]
        if judgements and not any(j.ok for j in judgements):
            return self._answerability_refusal(asked, judgements)
        return decision

    @staticmethod
    def _answerability_refusal(asked: AskedFor, judgements: list[Judgement]) -> RefusalDecision:
        """The refusal for "on topic, but not this fact": the closest sentence's judgement says why.
        When that sentence states the asked attribute of *another* subject, it is kept (``cite``)
        so the refusal can say what the documents do state, cited as what it is."""
        order = sorted(judgements, key=lambda j: (j.type_ok and j.statement, round(j.attribute, 2), j.subject_ok),
                       reverse=True)
        best = order[0] if order else None
        details: dict = {"answer_type": asked.answer_type,
                         "subjects": [s.text for s in asked.subjects]}
        missing: list[str] = []
        if best is not None:
            details["closest"] = best.to_json()
            missing = best.missing_subjects
            if (best.reason in ("subject", "other_subject") and best.type_ok and best.statement
                    and best.attribute >= 0.5):
                details["cite"] = [best.passage, *(best.claim_span or (best.start, best.end))]
        return RefusalDecision(True, "answerability", missing=missing, details=details)

    @staticmethod
    def _refusal(query: str, language: str, decision: RefusalDecision, passages: list[Passage]):
        """The refusal text and, when it names what the documents state of another subject, that citation."""
        cite = decision.details.get("cite")
        if not cite:
            return refusal_text(query, language, decision), []
        i, a, b = cite
        stated = passages[i].text[a:b].strip().rstrip("，,；;：:。.!！?？")
        citation = Citation.of(1, passages[i], a, b)
        return refusal_text(query, language, decision, stated=stated), [citation]

    def _extractive_raw(self, query: str, passages: list[Passage], analysis, candidates=None) -> str:
        raw = self._extractive.answer(query, passages, analysis, candidates)
        return raw[len(ENGLISH_QUOTE_PREFIX) :] if raw.startswith(ENGLISH_QUOTE_PREFIX) else raw

    def _translation(self, query: str, xq, passages: list[Passage] = ()) -> tuple[list, list[str]]:
        """A question in another language than the documents: its translated term groups (``xq``, the
        retrieval's rag/retrieve/crosslingual query), each led by the sense the top passages use, and the terms
        to show (phrases the passages hold included); nothing for a question in the documents' language."""
        if detect_language(query) == "zh" or xq is None:
            return [], []
        groups = xq.senses_in([p.text for p in passages[:3]], phrases=True)
        shown = list(dict.fromkeys(g.alternatives[0] for g in groups))
        return [g for g in groups if g.kind != "phrase"], shown

    def _analyse(self, query: str, passages: list[Passage] = ()):
        translate = getattr(self.retriever, "translate", None)
        xq = translate(query) if callable(translate) and detect_language(query) != "zh" else None
        return analyse_question(query, term_groups=self._translation(query, xq, passages)[0])


def _around_claim(text: str, c: Candidate, limit: int = SIMILARITY_CHARS) -> str:
    """The candidate's sentence, or for a long one the ``limit`` characters around the clause it would
    copy (embedding time grows with length; the meaning asked about is near the answer)."""
    a, b = c.sentence
    if b - a <= limit:
        return text[a:b]
    start = max(a, min(c.start - (limit - (c.end - c.start)) // 2, b - limit))
    return text[start : start + limit]


def _kept_sentences(report: dict) -> list[str]:
    """The answer sentences the citation check kept (with a verified citation)."""
    return [s["text"] for s in report.get("sentences", []) if s.get("status") != "dropped"]


# The framing of a quoted passage in the prompt (prompts/passage_*.txt), which no answer of the model contains.
_PROMPT_QUOTING = re.compile(r"(?:资料|Passage)\s*(?:\[\d+\])?\s*[（(][^）)]*[）)]\s*[：:]\s*[“\"]|^\W*[：:]\s*[“\"]")


def _copies_prompt(raw: str) -> bool:
    return _PROMPT_QUOTING.search(raw.strip()) is not None


def _model_declined(raw: str) -> bool:
    """The model's own "the documents do not say" (system prompts, rule 5/7)."""
    text = raw.strip().lower()
    return text.startswith(("the documents do not say", "文档中没有找到")) or (
        not re.search(r"\[\d", text) and ("do not say" in text or "没有找到" in text)
    )
