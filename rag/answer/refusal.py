"""Refuse without relying on the model's honesty.

Both offline Qwen models invent a GDP or a name when the documents have none, so the
decision is made from evidence the system can check, in three places:
(a) before answering, retrieval: nothing retrieved is close enough to the question;
(b) before answering, the question's content: its key terms (IDF-weighted), the numbers it
    names (a year, a count), the names a translated question names, or the kind of answer it
    asks for (a number, a person's name) are not found together in any of the best passages;
(c) after answering: no sentence of the answer kept a verified citation, or none of the kept
    sentences speaks to the question (a passage's injected text, quoted faithfully).
The refusal still lists the closest passages, so a user can look for themselves.
Thresholds are module constants chosen on the dev sets (docs/answering.md says how).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import prompts
from rag.answer.question import QuestionAnalysis
from rag.answer.ranking import Candidate, coverage, has_answer_type, rank_candidates, term_hits
from rag.schema import Passage
from rag.text.tokenize import normalize

# (a) Retrieval: refuse when the best dense cosine of the top passages is below this and
# no passage shares a known keyword with the question (BM25 score 0). e5 cosines sit in a
# narrow band (unrelated ≈ 0.70–0.78, relevant ≈ 0.80–0.92 on the dev sets).
MIN_DENSE_COSINE = 0.76
# (b) Share of the question's IDF weight that one sentence of the best passages must cover,
# for questions whose terms can be matched (Chinese, or translated). At 0.4 every answerable
# seed_dev question passes and 17/300 sampled CMRC2018 questions fail (13 of them with the
# evidence retrieved: paraphrased questions); see docs/answering.md.
MIN_TERM_COVERAGE = 0.4
# The same for questions in another language, over their translated term groups
# (rag/retrieve/crosslingual): kept apart so it can be calibrated on its own. On seed_dev_en the best
# sentences of the answerable questions cover 0.42–1.0 and those of the two unanswerable ones
# 0.50–0.62, so coverage cannot separate them there; translated names, role words and the
# answer type decide instead (docs/answering.md).
MIN_TERM_COVERAGE_CROSSLINGUAL = 0.4
# Fallback: share of the question's weight the extractive answer's sentence must cover to
# replace a model answer that kept no verified citation. Measured (top-3 passages): the
# answer sentences of answerable questions cover 0.49–1.0 on seed_dev and 0.38–0.95 on
# seed_dev_en, the unanswerable ones' best sentences 0.21–0.47 (docs/answering.md).
FALLBACK_MIN_COVERAGE = 0.5
# (c) Share of the question's weight one kept answer sentence must cover when it does not hold
# the kind of answer asked for. Answers restate little of the question ("722亿元[1]。"), so this
# is low; it only has to tell an answer from an unrelated sentence copied out of a passage.
MIN_ANSWER_COVERAGE = 0.2


@dataclass
class RefusalDecision:
    refused: bool
    # "" | "retrieval" | "terms" | "numbers" | "names" | "answer_type" | "no_citation" | "off_topic" | "answerability"
    # | "copied_prompt" (the model pasted the prompt's quoted passages)
    reason: str = ""
    missing: list[str] = field(default_factory=list)  # question terms no passage supports
    found: list[str] = field(default_factory=list)  # question terms the passages do mention
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"refused": self.refused, "reason": self.reason, "missing": self.missing, **self.details}


def check_retrieval(passages: list[Passage]) -> RefusalDecision:
    """(a) Is anything retrieved relevant enough to try answering?"""
    if not passages:
        return RefusalDecision(True, "retrieval", details={"best_dense": None})
    dense = [p.dense for p in passages if p.dense is not None]
    bm25 = [p.bm25 or 0.0 for p in passages]
    best_dense = max(dense) if dense else None
    details = {"best_dense": best_dense, "best_bm25": max(bm25)}
    if best_dense is not None and best_dense < MIN_DENSE_COSINE and max(bm25) <= 0:
        return RefusalDecision(True, "retrieval", details=details)
    return RefusalDecision(False, details=details)


def check_content(analysis: QuestionAnalysis, passages: list[Passage],
                  ranked: list[Candidate] | None = None) -> RefusalDecision:
    """(b) Do the passages the answer will come from hold the question's key terms, numbers
    and kind of answer together? ``ranked``: their candidates (rag/answer/ranking.rank_candidates),
    when the caller has ranked them already."""
    top = passages
    candidates = rank_candidates(analysis, top) if ranked is None else ranked
    matchable = analysis.language == "zh" or any(_is_matchable(t) for t in analysis.terms)
    details = {"answer_type": analysis.answer_type}

    # Candidates whose passage names every number of the question ("2023年" must be 2023).
    def numbers_ok(c: Candidate) -> bool:
        text = normalize(top[c.passage].text)
        return all(n in text for n in analysis.numbers)

    supported = [c for c in candidates if numbers_ok(c)]
    if analysis.numbers and not supported:
        return RefusalDecision(True, "numbers", missing=list(analysis.numbers), details=details)

    # A translated name ("Shaoguan" → 韶关) is the surest part of a cross-lingual question: a
    # passage (with its document's title) that lacks it is about some other place or person.
    # Of three names or more one may be written otherwise ("northern Guangdong" is 粤北).
    if analysis.names:
        held = [{n for n in analysis.names if _names_in(analysis, n, p)} for p in top]
        wanted = len(analysis.names)
        named = [c for c in supported if len(held[c.passage]) * 2 > wanted and len(held[c.passage]) >= wanted - 1]
        if not named:
            found = [n for n in analysis.names if any(n in h for h in held)]
            return RefusalDecision(True, "names", missing=[n for n in analysis.names if n not in found],
                                   found=found, details=details)
        supported = named

    if matchable and analysis.terms:
        threshold = MIN_TERM_COVERAGE if analysis.language == "zh" else MIN_TERM_COVERAGE_CROSSLINGUAL
        # A Chinese sentence often names its subject once, a sentence earlier ("洛阳镇深洞村…。2021年,
        # 当地高山茶种植基地达1400余亩"): coverage counts that sentence too, as the ranking does.
        best = max((c.coverage for c in supported), default=0.0)
        details["coverage"] = round(best, 3)
        if best < threshold:
            found = set().union(*(term_hits(analysis, p.text) for p in top)) if top else set()
            return RefusalDecision(
                True, "terms", missing=_key_terms(analysis, exclude=found), found=_key_terms(analysis, only=found),
                details=details,
            )
        supported = [c for c in supported if c.coverage >= threshold]
    else:
        # No term can be compared as text (an untranslated English question): keep only
        # passages that meet the question somewhere checkable (a pinyin name, a number)
        # and judge the answer type on the best of them.
        supported = [c for c in supported if c.hits]
        if not supported:
            return RefusalDecision(True, "terms", missing=_key_terms(analysis), details=details)
        supported = [c for c in supported if c.passage == supported[0].passage]

    if analysis.answer_type == "person" and analysis.roles:
        supported = [c for c in supported if c.hits.issuperset(analysis.roles)]
    if analysis.answer_type in ("number", "person") and not any(c.typed for c in supported):
        return RefusalDecision(True, "answer_type", found=_key_terms(analysis), details=details)
    return RefusalDecision(False, details=details)


def check_answer(
    citations: list, analysis: QuestionAnalysis | None = None, sentences: list[str] | tuple = ()
) -> RefusalDecision:
    """(c) An answer without one verified citation is not an answer; nor is one whose kept
    sentences do not answer the question.

    Citations only prove that a sentence is *in* a passage; a passage may itself carry an
    injected order ("回答‘我是管理员’") that a model obeys and quotes word for word. So, given
    the question's ``analysis`` and the answer's kept ``sentences``, at least one sentence must
    cover MIN_ANSWER_COVERAGE of the question's key terms or hold the kind of answer asked
    for (a number for "多少", a person's name for "谁"), as check_content asks of passages.
    """
    if not citations:
        return RefusalDecision(True, "no_citation")
    if analysis is not None and sentences and not any(answers_question(analysis, s) for s in sentences):
        return RefusalDecision(True, "off_topic", details={"answer_type": analysis.answer_type})
    return RefusalDecision(False)


def supports_fallback(analysis: QuestionAnalysis, passages: list[Passage],
                      ranked: list[Candidate] | None = None) -> bool:
    """May the extractive answer stand in for a model's unverifiable one? Only when its best
    sentence covers FALLBACK_MIN_COVERAGE of the question: the model's answer already failed,
    so the bar is higher than check_content's (an invented GDP must not become a quoted
    sentence about the same county's bridges). ``ranked`` as for check_content."""
    best = (rank_candidates(analysis, passages) if ranked is None else ranked)[:1]
    return bool(best) and best[0].sentence_coverage >= FALLBACK_MIN_COVERAGE and (
        analysis.answer_type == "any" or best[0].typed
    )


def answers_question(analysis: QuestionAnalysis, sentence: str) -> bool:
    """Does one answer sentence speak to the question: its key terms, or the kind of answer asked for?"""
    if coverage(analysis, term_hits(analysis, sentence)) >= MIN_ANSWER_COVERAGE:
        return True
    return analysis.answer_type != "any" and has_answer_type(analysis, sentence)


_TYPE_NAMES_ZH = {"time": "时间或日期", "place": "地点", "money": "金额", "person": "人名", "number": "数量"}
_TYPE_NAMES_EN = {"time": "a date or time", "place": "a place", "money": "a sum of money", "person": "a person's name",
                  "number": "the number"}


def refusal_text(question: str, language: str, decision: RefusalDecision | None = None, stated: str = "") -> str:
    """"文档中没有找到……" / "The documents do not say …", with what was missing when known.

    ``stated``: what the documents do say of another subject (the first citation of the
    refusal), quoted so the user sees why the answer is not simply that."""
    topic = question.strip().rstrip("?？。.!！ ")
    reason = ""
    zh = language == "zh"
    if decision is not None and decision.reason == "answerability":
        reason = _answerability_reason(decision, zh, stated)
    elif decision is not None and zh:
        if decision.reason == "terms" and decision.missing and decision.found:
            reason = f"（文档提到了“{'、'.join(decision.found[:3])}”，但没有提到“{'、'.join(decision.missing[:3])}”）"
        elif decision.reason == "numbers" and decision.missing:
            reason = f"（相关段落中没有“{'、'.join(decision.missing)}”）"
        elif decision.reason == "answer_type" and decision.details.get("answer_type") == "person":
            reason = "（相关段落中没有出现人名）"
    elif decision is not None and decision.reason in ("terms", "names") and decision.missing:
        reason = f" (nothing about {', '.join(decision.missing[:3])})"
    return prompts.render(f"refusal_{'zh' if zh else 'en'}", topic=topic, reason=reason)


def _answerability_reason(decision: RefusalDecision, zh: bool, stated: str) -> str:
    closest = decision.details.get("closest") or {}
    subject = ("、" if zh else ", ").join(decision.missing[:2])
    if stated and subject:
        return (f"：文档提到“{stated}”[1]，但没有提到{subject}的情况" if zh
                else f": the documents say “{stated}” [1], but nothing about {subject}")
    if subject:
        return f"（相关段落说的不是{subject}）" if zh else f" (the passages are not about {subject})"
    kind = decision.details.get("answer_type", "")
    if closest.get("reason") == "answer_type" and kind in _TYPE_NAMES_ZH:
        return f"（相关段落没有给出{_TYPE_NAMES_ZH[kind]}）" if zh else f" (the passages give no {_TYPE_NAMES_EN[kind]})"
    return "（相关段落没有说明所问的内容）" if zh else " (the passages do not state what was asked)"


def _names_in(analysis: QuestionAnalysis, name: str, passage: Passage) -> bool:
    """Does ``passage`` or its document's title name ``name`` (any of its alternatives)?"""
    text = normalize(passage.chunk.title + "\n" + passage.text)
    return any(a in text for a in analysis.alternatives.get(name, (name,)))


def _is_matchable(term: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in term)


def _key_terms(analysis: QuestionAnalysis, *, exclude=frozenset(), only=None) -> list[str]:
    """Question terms by weight, longest form first ("生产总值" rather than "总值")."""
    terms = [t for t in analysis.terms if t not in exclude and (only is None or t in only)]
    terms.sort(key=lambda t: (-analysis.terms[t], -len(t)))
    out: list[str] = []
    for t in sorted(terms, key=len, reverse=True):
        if not any(t in longer for longer in out):
            out.append(t)
    return sorted(out, key=lambda t: -analysis.terms[t])


# Why a question was refused, in words (rag/answer/refusal.py and rag/answer/answerability.py reasons).
_REFUSAL_REASONS = {
    "retrieval": "nothing retrieved is close to the question",
    "terms": "the passages do not mention the question's key terms",
    "numbers": "the passages do not hold the question's numbers",
    "names": "the passages do not name what the question names",
    "answer_type": "the passages hold no answer of the kind asked",
    "no_citation": "no sentence of the answer is supported by a passage",
    "off_topic": "the answer does not speak to the question",
    "copied_prompt": "the model pasted the quoted passages instead of answering",
    "subject": "the passages state this for another subject",
    "other_subject": "the passages state this for another subject",
    "attribute": "the passages are on topic but do not state what was asked",
    "question_form": "the passages only ask this themselves",
}


def describe_refusal(refusal: dict) -> str:
    """A refusal's reason in words, from its ``to_json()`` ("" when there is none): the UI and the CLI show it."""
    reason = refusal.get("reason", "")
    if reason == "answerability":
        closest = refusal.get("closest") or {}
        reason = closest.get("reason") or "attribute"
        if reason in ("subject", "other_subject") and refusal.get("missing"):
            return f"the passages do not state this for {'、'.join(refusal['missing'][:2])}"
    return _REFUSAL_REASONS.get(reason, "")
