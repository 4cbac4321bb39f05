"""The chat model's own yes or no: does this sentence state what the question asks?

The answerability checks (rag/answer/answerability.py) weigh the question's words and, through the
embedder, its meaning. A question whose every content word is paraphrased ("农业、林业、畜牧业和渔业…一共
创造了多少产出" for "农林牧渔产值722亿元") passes neither, although the sentence answers it: e5's cosines
do not separate such a sentence from a wrong one on the same topic. The chat model reads the paraphrase.
So when no sentence passes on words or meaning (the content check refused for want of the question's
words, or answerability for want of the asked attribute's), the best-ranked sentences that pass every
other gate (the asked subject, the kind of answer, a statement) are each put to the model as one yes/no
question, and P(是) is read from the probabilities of its first token rather than from text it
writes. A sentence the model vouches for at MIN_YES or above may answer; the answer is then checked as
every answer is, with that sentence's vouching standing in for the missing words.

Only an engine that can read token probabilities judges (llama.cpp; ``Generator.yes_probability``); the
extractive answerer has no model and keeps the word-and-meaning checks alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import prompts
from rag.text.tokenize import normalize

# Sentences put to the model per question: the best-ranked distinct ones that pass the gates. On the
# dev sets' reworded questions the sentence that answers is among the first three (docs/answering.md);
# each costs ≈ 1 s of prefill on two cores.
JUDGE_CANDIDATES = 3
# The model's P(是) a sentence needs. Measured on the dev sets' refused questions whose sentences pass the
# gates (docs/answering.md): sentences that state the answer 0.83–0.96, most ≥ 0.90; sentences that do
# not, 0.65–0.89, the best of an unanswerable question up to 0.89.
MIN_YES = 0.90
# Characters of a title and of a sentence shown to the model (a long sentence costs prefill time).
TITLE_CHARS = 40
SENTENCE_CHARS = 240

_YES_NO = {"zh": (("是",), ("否",)), "en": (("yes", "Yes"), ("no", "No"))}


@dataclass(frozen=True)
class Vouched:
    """A sentence the model said states the answer: where it is, and how sure the model was."""

    passage: int  # index in the answer's passages
    start: int  # the sentence, offsets in the passage text
    end: int
    p_yes: float

    def covers(self, passage: int, start: int, end: int) -> bool:
        """Does a supporting window (an answer sentence's span) overlap this sentence?"""
        return passage == self.passage and start < self.end and self.start < end


def yes_probability(generator, question: str, sentence: str, title: str, language: str) -> float | None:
    """The model's P(是) that ``sentence`` (from a document titled ``title``) states the answer to
    ``question``; None when the generator cannot tell (no model, or an engine without token probabilities)."""
    judge = getattr(generator, "yes_probability", None)
    if judge is None:
        return None
    lang = "zh" if language == "zh" else "en"
    messages = [
        {"role": "system", "content": prompts.render(f"system_{lang}")},
        {"role": "user", "content": prompts.render(f"judge_{lang}", title=title[:TITLE_CHARS],
                                                    sentence=sentence[:SENTENCE_CHARS], question=question)},
    ]
    yes, no = _YES_NO[lang]
    return judge(messages, yes=yes, no=no)


def vouch(generator, question: str, language: str, candidates, passages) -> tuple[list[Vouched], list[dict]]:
    """Put the first JUDGE_CANDIDATES distinct sentences of ``candidates`` (rag/answer/ranking.Candidate,
    best first) to the model. The sentences it vouches for (best first), and every verdict (for the answer's
    details)."""
    seen: set[str] = set()
    vouched: list[Vouched] = []
    verdicts: list[dict] = []
    for c in candidates:
        if len(seen) >= JUDGE_CANDIDATES:
            break
        p = passages[c.passage]
        a, b = c.sentence
        sentence = p.text[a:b].strip()
        key = normalize(sentence)
        if not key or key in seen:
            continue
        seen.add(key)
        p_yes = yes_probability(generator, question, sentence, p.chunk.title or "", language)
        if p_yes is None:
            return [], []
        verdicts.append({"passage": c.passage + 1, "p_yes": round(p_yes, 4)})
        if p_yes >= MIN_YES:
            vouched.append(Vouched(c.passage, a, b, p_yes))
    vouched.sort(key=lambda v: v.p_yes, reverse=True)
    return vouched, verdicts
