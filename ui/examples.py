"""Example questions drawn from whatever is indexed, so the demo works on any collection.

A fact in a document usually carries a number ("已推荐47家企业申报高新技术企业"); asking for
that number ("已推荐多少家企业申报高新技术企业？") gives a question the documents can answer.
Documents without such a clause fall back to a question about their title.
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
        return clause[: num.start()] + "多少" + clause[num.end():] + "？"
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
