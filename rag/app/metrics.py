"""Eval-set format and metrics, as defined in shared/eval/README.md.

Questions are JSON Lines: qid, question, answerable, evidence (any one string suffices,
compared without whitespace), optional source (file name), answer_keywords (all must appear;
a keyword may be a list of alternatives), optional history (earlier questions of the same chat). Metrics: retrieval hit@k and MRR@10 over
answerable questions; answer keyword accuracy, citation precision, refusal accuracy,
false-refusal rate and median answer length.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import YuanwenError
from rag.text.bigrams import char_bigrams

log = logging.getLogger("yuanwen.metrics")

_WS = re.compile(r"\s+")
_MARKER = re.compile(r"\[\d+\]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")


@dataclass
class EvalQuestion:
    qid: str
    question: str
    answerable: bool = True
    evidence: list[str] = field(default_factory=list)
    source: str | None = None
    answer_keywords: list = field(default_factory=list)
    # The user's earlier questions in the same chat, oldest first: asked first, then ``question``.
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BadLine:
    """A line of an eval file that cannot be asked: reported, not scored."""

    line: int
    qid: str | None
    error: str

    def to_json(self) -> dict:
        return {"line": self.line, "qid": self.qid, "error": self.error}


def parse_question(line: str) -> EvalQuestion:
    """One eval line → a question; ValueError says what is wrong with it."""
    try:
        d = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError("not a JSON object")
    missing = [key for key in ("qid", "question") if key not in d]
    if missing:
        raise ValueError(f"no {' and no '.join(missing)}")
    if not isinstance(d["question"], str) or not d["question"].strip():
        raise ValueError("empty question")
    try:
        return EvalQuestion(
            qid=str(d["qid"]),
            question=d["question"],
            answerable=bool(d.get("answerable", True)),
            evidence=list(d.get("evidence") or []),
            source=d.get("source"),
            answer_keywords=list(d.get("answer_keywords") or []),
            history=[str(h) for h in (d.get("history") or [])],
        )
    except TypeError as exc:
        raise ValueError(f"a field has the wrong type ({exc})") from None


def load_questions(path: str | Path, bad: list[BadLine] | None = None) -> list[EvalQuestion]:
    """The questions of an eval file. A line that cannot be asked (malformed JSON, no qid or question, an empty
    question) is an error naming its line — or, when ``bad`` is given, is appended there and skipped."""
    path = Path(path)
    if not path.exists():
        raise YuanwenError(f"no eval file at {path}", "pass a JSON Lines file in the format of shared/eval/README.md")
    out = []
    skipped = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            if _is_todo(line):  # a line exported from a 👎 that a person has not completed yet
                skipped += 1
                continue
            out.append(parse_question(line))
        except ValueError as exc:
            if bad is None:
                raise YuanwenError(f"{path}:{lineno}: not a valid eval line ({exc})",
                                   "each line needs at least qid and a non-empty question") from None
            bad.append(BadLine(lineno, _qid_of(line), str(exc)))
    if not out:
        first = f" (line {bad[0].line}: {bad[0].error})" if bad else ""
        todo = f" ({skipped} still marked todo)" if skipped else ""
        raise YuanwenError(f"{path} holds no questions that can be asked{first}{todo}",
                           "add one JSON object per line with qid and question"
                           + (", or complete the todo lines" if skipped else ""))
    if skipped:
        log.warning("%s: skipped %d line(s) still marked todo", path, skipped)
    return out


def _is_todo(line: str) -> bool:
    try:
        d = json.loads(line)
    except ValueError:
        return False
    return isinstance(d, dict) and bool(d.get("todo"))


def _qid_of(line: str) -> str | None:
    try:
        d = json.loads(line)
    except ValueError:
        return None
    return str(d["qid"]) if isinstance(d, dict) and d.get("qid") is not None else None


def squash(text: str) -> str:
    """Text as the metrics compare it: no whitespace, lower-case, no thousands separators."""
    return _THOUSANDS.sub("", _WS.sub("", text)).lower()


def is_relevant(q: EvalQuestion, source: str, text: str) -> bool:
    """A passage is relevant when it holds one evidence string (and comes from q.source, if given)."""
    if q.source and Path(source).name != q.source:
        return False
    flat = _WS.sub("", text)
    return any(_WS.sub("", e) in flat for e in q.evidence if e.strip())


def first_relevant_rank(q: EvalQuestion, passages: list[dict]) -> int | None:
    for rank, p in enumerate(passages[:10], 1):
        if is_relevant(q, p["source"], p["text"]):
            return rank
    return None


def keywords_found(keywords: list, answer: str) -> bool:
    flat = squash(answer)
    for kw in keywords:
        options = kw if isinstance(kw, list) else [kw]
        if not any(squash(o) in flat for o in options):
            return False
    return True


def answer_length(answer: str) -> int:
    return len(_WS.sub("", _MARKER.sub("", answer)))


def _citation_ok(q: EvalQuestion, result: dict, citation: dict, sentence: str) -> bool:
    """A citation is right when its passage is relevant or its text says what the sentence says."""
    passages = result.get("passages") or []
    cited = None
    for p in passages:
        same_document = (p["doc_key"] == citation["doc_key"] if "doc_key" in p and "doc_key" in citation
                         else p["source"] == citation.get("source"))
        if same_document and "start" in citation and p.get("start") is not None:
            if p["start"] <= citation["start"] and citation["end"] <= p["end"]:
                cited = p
                break
    if cited is not None and q.answerable and is_relevant(q, cited["source"], cited["text"]):
        return True
    support = squash((cited or {}).get("text", "") + citation.get("text", ""))
    claim = squash(_MARKER.sub("", sentence))
    if not claim:
        return False
    return claim in support or _bigram_overlap(claim, support) >= 0.6


def _bigram_overlap(claim: str, support: str) -> float:
    grams = char_bigrams(claim)
    return sum(g in support for g in grams) / len(grams)


def _sentences_citing(answer: str, n: int) -> str:
    parts = re.split(r"(?<=[。！？!?；;])", answer)
    hits = [s for s in parts if f"[{n}]" in s]
    return " ".join(hits) if hits else answer


def compute_metrics(questions: list[EvalQuestion], results: list[dict]) -> dict:
    """Metrics for results aligned with questions (dicts in the ``eval --out`` format)."""
    by_qid = {r["qid"]: r for r in results}
    answerable = [q for q in questions if q.answerable]
    ranks = [first_relevant_rank(q, by_qid[q.qid]["passages"]) for q in answerable]
    m: dict = {"questions": len(questions), "answerable": len(answerable)}
    if answerable:
        for k in (1, 5, 10):
            m[f"hit@{k}"] = sum(r is not None and r <= k for r in ranks) / len(answerable)
        m["mrr@10"] = sum(1 / r for r in ranks if r) / len(answerable)
    answered = [r for r in results if r.get("answer") is not None]
    if not answered:
        return m
    qs = {q.qid: q for q in questions}
    graded = [q for q in answerable if q.answer_keywords and by_qid[q.qid].get("answer") is not None]
    if graded:
        m["answer_keyword_accuracy"] = sum(
            (not by_qid[q.qid]["refused"]) and keywords_found(q.answer_keywords, by_qid[q.qid]["answer"])
            for q in graded
        ) / len(graded)
    n_cit = n_ok = 0
    for r in answered:
        if r.get("refused"):
            continue
        for c in r.get("citations") or []:
            n_cit += 1
            n_ok += _citation_ok(qs[r["qid"]], r, c, _sentences_citing(r["answer"], c["n"]))
    if n_cit:
        m["citation_precision"] = n_ok / n_cit
    unanswerable = [q for q in questions if not q.answerable and by_qid[q.qid].get("answer") is not None]
    if unanswerable:
        m["refusal_accuracy"] = sum(bool(by_qid[q.qid]["refused"]) for q in unanswerable) / len(unanswerable)
    ans_answered = [q for q in answerable if by_qid[q.qid].get("answer") is not None]
    if ans_answered:
        m["false_refusal_rate"] = sum(bool(by_qid[q.qid]["refused"]) for q in ans_answered) / len(ans_answered)
    lengths = [answer_length(r["answer"]) for r in answered if not r.get("refused")]
    if lengths:
        m["median_answer_chars"] = statistics.median(lengths)
    return m
