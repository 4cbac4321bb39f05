"""Names written in pinyin ("Ruyuan", "Daligang", "Da Li Gang") meet the characters they spell.

English readers write Chinese place and person names in toneless pinyin, joined or split by
syllable. The collection's own character n-grams are keyed by their toneless pinyin
(rag.text.pinyin, at ingest); a question word, or a run of up to four words, whose letters equal
a key is that name. Only the collection's n-grams are candidates, so "Zhenjiang" finds 浈江 in a
collection that has 浈江 and not 镇江.
"""

from __future__ import annotations

import re

MAX_NAME_WORDS = 4  # "Da Li Gang Zhen"


def normalize_name(word: str) -> str:
    """Lower-case letters only, ü → v, possessive dropped: "Shaoguan's" → "shaoguan"."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return re.sub(r"[^a-zv]", "", word.replace("ü", "v"))


def match_names(words: list[str], candidates: list[bool], keys: dict[str, list[str]]) -> list[tuple[int, int, list[str]]]:
    """``(start, end, chinese)`` for runs ``words[start:end]`` spelling a collection n-gram.

    ``candidates[i]`` says whether word i may be part of a name (capitalised, or not an
    English word). Longest runs win, left to right; a run never overlaps another.
    """
    out = []
    i = 0
    while i < len(words):
        found = None
        if candidates[i]:
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                if not all(candidates[i : i + n]):
                    continue
                key = "".join(normalize_name(w) for w in words[i : i + n])
                if key in keys:
                    found = (i, i + n, keys[key])
                    break
        if found:
            out.append(found)
            i = found[1]
        else:
            i += 1
    return out
