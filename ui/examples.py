"""Example questions drawn from whatever is indexed, so the demo works on any collection.

A fact in a document usually carries a number ("已推荐47家企业申报高新技术企业"); asking for
that number ("已推荐多少家企业申报高新技术企业？") gives a question the documents can answer.
Documents without such a clause fall back to a question about their title. A clause that does
not name its subject ("管辖面积仅有2平方公里") gets the place its sentence names before it
("如鹰峰社区党委，管辖面积…"), else the one the title or the document's opening names, so the
question can be understood (and answered) alone: "鹰峰社区管辖面积仅有多少平方公里？".
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"[^，,；;。！？!?\n：:“”\"（）()]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:多|余)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_CLAUSE, MAX_CLAUSE = 10, 36
# A clause that starts like these is a fragment of a longer sentence ("在…的基础上").
_FRAGMENT_STARTS = ("在", "和", "并", "及", "与", "通过", "围绕", "为", "以", "对", "将", "把", "从")
# Verbs and words that introduce an amount: "推荐47家", "投资200多万元", "达2.7万人", "共115个".
_BEFORE_AMOUNT = set("达到有荐资建成计约为训待过增完现共开设举办出入帮助引收")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
LEAD_CHARS = 200


def subject_for(text: str, clause_start: int, title: str) -> str:
    """The place a clause at ``text[clause_start:]`` is about: the last one named earlier in its
    sentence, else the last one in the title, else the first one in the document's opening ("" if none)."""
    from rag.answer.answerability import place_names

    before = _SENTENCE_END.split(text[:clause_start])[-1]
    for source, pick in ((before, -1), (title, -1), (text[:LEAD_CHARS], 0)):
        names = place_names(source) if source.strip() else []
        if names:
            return names[pick]
    return ""


def _names_a_subject(clause: str) -> bool:
    from rag.answer.answerability import _subjects_zh

    return any(s.kind in ("place", "org", "name") for s in _subjects_zh(clause))


def question_from_text(text: str, title: str = "") -> str | None:
    """A 多少 question about the first numeric clause of ``text`` (skipping the title), or None."""
    for m in _CLAUSE.finditer(text):
        clause = m.group().strip()
        if clause == title.strip() or not (MIN_CLAUSE <= len(clause) <= MAX_CLAUSE):
            continue
        nums = list(_NUMBER.finditer(clause))
        if len(nums) != 1 or len(_CJK.findall(clause)) < 6 or clause.startswith(_FRAGMENT_STARTS):
            continue
        num = nums[0]
        if num.start() == 0 or clause[num.start() - 1] not in _BEFORE_AMOUNT:
            continue
        unit_follows = num.end() < len(clause) and _CJK.match(clause[num.end()])
        year = re.match(r"\d{4}年", clause[num.start():])
        if not unit_follows or year:
            continue
        question = clause[: num.start()] + "多少" + clause[num.end():] + "？"
        if not _names_a_subject(clause):
            subject = subject_for(text, m.start() + m.group().index(clause), title)
            if subject and subject not in question:
                question = subject + question
        return question
    return None


def example_questions(documents: list, limit: int = 4) -> list[str]:
    """Up to ``limit`` questions, one per document (records with ``title`` and ``text``)."""
    out: list[str] = []
    for d in documents:
        q = question_from_text(d.text or "", d.title or "")
        if q is None and d.title:
            q = f"{d.title.strip()[:30]}的主要内容是什么？" if _CJK.search(d.title) else f"What is “{d.title.strip()[:40]}” about?"
        if q and q not in out:
            out.append(q)
        if len(out) >= limit:
            break
    return out
