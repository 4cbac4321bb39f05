"""Question → structured Chinese query: one group of alternatives per English term.

"How many mu of land were transferred for the grass jelly plantation in Dongtian village?"
becomes groups such as ``grass jelly → [仙草]``, ``Dongtian → [东田]``, ``land → [土地, 地, …]``,
``village → [村, 村庄, …]``; a passage scores a group by its best alternative, so the six
senses of a common word never outweigh the one sense of a rare one. Names are matched as
pinyin first (a capitalised or non-English word), then multi-word dictionary senses, longest
first; numbers are kept as written. Every group says where it came from, so the user can
see a wrong translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from . import dictionary, pinyin
from .terms import CollectionTerms

SOURCES = ("dictionary", "pinyin", "numbers")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[A-Za-zÀ-ÿü]+(?:['’][A-Za-z]+)?")


@dataclass
class TermGroup:
    source: str  # the question's words: "grass jelly", "Da Li Gang", "2021"
    kind: str  # "dictionary" | "pinyin" | "number"
    alternatives: list[str]  # Chinese terms (or the number), most frequent in the collection first
    start: int = 0  # the question tokens it stands for
    end: int = 0

    def to_json(self) -> dict:
        return {"source": self.source, "kind": self.kind, "terms": self.alternatives}


@dataclass
class CrossLingualQuery:
    question: str
    groups: list[TermGroup] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        """One term per group (its most frequent alternative): what a user reads as "the translation"."""
        return list(dict.fromkeys(g.alternatives[0] for g in self.groups if g.alternatives))

    def terms_in(self, texts: list[str]) -> list[str]:
        """One term per English term, in the sense these texts use (see ``senses_in``), phrases
        the texts hold included: what the user is shown."""
        return list(dict.fromkeys(g.alternatives[0] for g in self.senses_in(texts, phrases=True)))

    def senses_in(self, texts: list[str], *, phrases: bool = False) -> list[TermGroup]:
        """The groups with the alternative found in most of ``texts`` first (ties: a word of two
        characters or more, then the collection's most frequent), so "recommended" reads 推荐,
        not 引进, when the passages say 推荐. Phrase groups only with ``phrases``, and only when
        the texts hold the phrase (its words are groups already)."""
        from rag.text.tokenize import normalize

        texts = [normalize(t) for t in texts]
        out = []
        for g in self.groups:
            if not g.alternatives or (g.kind == "phrase" and not phrases):
                continue
            counts = [sum(a in t for t in texts) for a in g.alternatives]
            if g.kind == "phrase" and not any(counts):
                continue
            best = max(range(len(counts)), key=lambda i: (counts[i], len(g.alternatives[i]) > 1, -i))
            alternatives = [g.alternatives[best]] + [a for i, a in enumerate(g.alternatives) if i != best]
            out.append(replace(g, alternatives=alternatives))
        return out

    @property
    def all_terms(self) -> list[str]:
        return list(dict.fromkeys(t for g in self.groups for t in g.alternatives))

    def to_json(self) -> list[dict]:
        return [g.to_json() for g in self.groups]


def translate(question: str, collection: CollectionTerms, sources: tuple[str, ...] = SOURCES) -> CrossLingualQuery:
    """The structured query for ``question`` over ``collection`` (only terms it contains)."""
    tokens = _TOKEN.findall(question)
    groups: list[tuple[int, TermGroup]] = []
    taken = [False] * len(tokens)
    words = [(i, t) for i, t in enumerate(tokens) if not t[0].isdigit()]

    if "numbers" in sources:
        for i, t in enumerate(tokens):
            if t[0].isdigit():
                groups.append((i, TermGroup(t, "number", [t.replace(",", "")], i, i + 1)))
                taken[i] = True

    if "pinyin" in sources and collection.pinyin:
        texts = [t for _, t in words]
        # A capitalised word may be a name; a lower-case one only if the dictionary does not know it.
        candidates = [t[0].isupper() or (t.lower() not in dictionary.ENGLISH_STOP_WORDS and
                                         dictionary.phrase_key([t.lower()]) not in collection.dictionary)
                      for t in texts]
        for start, end, chinese in pinyin.match_names(texts, candidates, collection.names):
            groups.append((words[start][0], TermGroup(" ".join(texts[start:end]), "pinyin", chinese,
                                                      words[start][0], words[end - 1][0] + 1)))
            for j in range(start, end):
                taken[words[j][0]] = True

    if "dictionary" in sources and collection.dictionary:
        for start, span in _runs(tokens, taken):
            groups.extend(_dictionary_groups(span, start, collection))

    groups.sort(key=lambda g: g[0])
    ordered = [g for _, g in groups]
    return CrossLingualQuery(question, ordered + _phrases(ordered, collection))


def _phrases(groups: list[TermGroup], collection: CollectionTerms) -> list[TermGroup]:
    """Adjacent English terms whose translations stand together in the collection
    ("villager groups" → 村民小组, "two-way commitment" → 双向承诺): a group of its own, so
    passages holding the phrase, not just both words, rank first."""
    out = []
    for a, b in zip(groups, groups[1:]):
        if a.end != b.start or "number" in (a.kind, b.kind):
            continue
        # A dictionary word, or two words of two characters or more found side by side (one
        # character next to anything is too often a chance neighbour: 区 + 开 in "…区开展…").
        joined = [(x + y, min(len(x), len(y))) for x in a.alternatives for y in b.alternatives]
        found = [p for p, shorter in joined if p in collection.terms or (shorter > 1 and p in collection.pinyin)]
        if found:
            out.append(TermGroup(f"{a.source} {b.source}", "phrase", found, a.start, b.end))
    return out


def _runs(tokens: list[str], taken: list[bool]) -> list[tuple[int, list[str]]]:
    """Maximal runs of untaken words (a name or number splits a phrase)."""
    runs, current, start = [], [], 0
    for i, (t, used) in enumerate(zip(tokens, taken)):
        if used or t[0].isdigit():
            if current:
                runs.append((start, current))
            current = []
            continue
        if not current:
            start = i
        current.append(t)
    if current:
        runs.append((start, current))
    return runs


def _dictionary_groups(words: list[str], offset: int, collection: CollectionTerms) -> list[tuple[int, TermGroup]]:
    """Greedy longest-sense match: "science and technology commissioners" → 科技, 特派员 …"""
    out = []
    lowered = [dictionary.english_words(w)[0] if dictionary.english_words(w) else w.lower() for w in words]
    i = 0
    while i < len(words):
        for n in range(min(dictionary.MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            span = lowered[i : i + n]
            if span[0] in dictionary.ENGLISH_STOP_WORDS or (
                span[-1] in dictionary.ENGLISH_STOP_WORDS and not (n > 1 and span[-1] in dictionary.PARTICLES)
            ):
                continue
            found = dictionary.lookup(collection.dictionary, span)
            if found:
                alternatives = sorted(found, key=lambda t: (-collection.terms.get(t, 0), -len(t), t))
                out.append((offset + i, TermGroup(" ".join(words[i : i + n]), "dictionary", alternatives,
                                                  offset + i, offset + i + n)))
                i += n
                break
        else:
            i += 1
    return out
