"""Rated answers → eval lines (shared/eval/README.md format), so ``yuanwen eval`` re-checks them.

👍: the question is answerable; the evidence is the sentence each citation quotes (any one
suffices), the source the cited file when there is one, the keywords the answer's numbers and
names that the cited text also holds (so a correct answer must keep stating them). A follow-up
carries the conversation's earlier questions as ``history``.
👎: the same question with ``"todo"`` saying what a person must fill in (is it answerable, the
evidence, the keywords); ``yuanwen eval`` skips a line while it has ``todo``.
"""

from __future__ import annotations

import re

from rag.app.conversations import ConversationStore, Turn
from rag.app.metrics import squash
from rag.text.words import NUMBER, PLACE_LEVELS, posseg

NAME_FLAGS = ("nr", "ns", "nt", "nz")  # jieba: person, place, organisation, other proper name
MAX_KEYWORDS = 4


def answer_keywords(answer: str, cited: str) -> list[str]:
    """Numbers and proper names stated by ``answer`` and found in ``cited`` (markers like [1] excluded)."""

    text = re.sub(r"\[\d+(?:[,，、\s]*\d+)*\]", " ", answer)
    flat = squash(cited)
    found: list[str] = []
    for m in NUMBER.finditer(text):
        if squash(m.group()) in flat:
            found.append(m.group())
    words = list(posseg().cut(text))
    for i, w in enumerate(words):
        name = w.word
        # jieba splits "白云镇" into 白云 + 镇: the place keeps its level
        if w.flag in NAME_FLAGS and i + 1 < len(words) and words[i + 1].word in PLACE_LEVELS:
            name += words[i + 1].word
        if w.flag in NAME_FLAGS and len(name) >= 2 and squash(name) in flat:
            found.append(name)
    return list(dict.fromkeys(found))[:MAX_KEYWORDS]


def eval_line(turn: Turn, history: list[str]) -> dict:
    a = turn.answer
    line: dict = {"qid": f"feedback-{turn.id}", "question": a.question}
    if history:
        line["history"] = history
    if turn.rating is not None and turn.rating > 0 and not a.refused and a.citations:
        sources = {c.source for c in a.citations}
        line.update(answerable=True, evidence=list(dict.fromkeys(c.text.strip() for c in a.citations)),
                    answer_keywords=answer_keywords(a.answer, " ".join(c.text for c in a.citations)))
        if len(sources) == 1:
            line["source"] = sources.pop().split("/")[-1]
    elif turn.rating is not None and turn.rating > 0:
        # A refusal marked right: the documents do not state it.
        line.update(answerable=False, evidence=[], answer_keywords=[])
    else:
        line.update(answerable=None, evidence=[], answer_keywords=[],
                    todo="rated 👎: set answerable, and if true the evidence sentence and answer_keywords; "
                         "then delete this field",
                    given_answer=a.answer)
    if turn.comment:
        line["comment"] = turn.comment
    return line


def export_lines(store: ConversationStore, kb: str, user: str | None = None) -> list[dict]:
    """One eval line per rated answer in knowledge base ``kb``, oldest first."""
    return [eval_line(t, store.earlier_questions(t)) for t in store.rated_turns(kb, user)]
