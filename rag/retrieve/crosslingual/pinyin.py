"""Names written in pinyin ("Ruyuan", "Daligang", "Da Li Gang") meet the characters they spell.

English readers write Chinese place and person names in toneless pinyin, joined or split by
syllable. The collection's own character n-grams (2–4 characters: most names, without their
县/镇/村 suffix as well as with it) are keyed by their toneless pinyin; a question word, or a run
of up to four words, whose letters equal a key is that name. Only the collection's n-grams are
candidates, so "Zhenjiang" finds 浈江 in a collection that has 浈江 and not 镇江.
"""

from __future__ import annotations

import functools
import re

NGRAM_CHARS = (2, 3, 4)
MAX_NAME_WORDS = 4  # "Da Li Gang Zhen"

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def ngrams(text: str) -> set[str]:
    """The 2–4-character n-grams of the Chinese runs of ``text`` (the name candidates)."""
    out = set()
    for run in _CJK_RUN.findall(text):
        for n in NGRAM_CHARS:
            out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def run_syllables(run: str) -> list[str]:
    """Toneless pinyin of each character of a run of Chinese characters, read in context.

    The same as ``pypinyin.lazy_pinyin(run)``: pypinyin's own word segmentation, then each word's reading. A
    word's reading does not depend on its neighbours, so it is looked up once per process, not once per
    occurrence — the common words of a collection repeat thousands of times (about 10× faster at ingest).
    """
    from pypinyin.seg.simpleseg import seg

    return [syllable for word in seg(run) for syllable in _word_syllables(word)]


@functools.lru_cache(maxsize=1 << 18)
def _word_syllables(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin([word]))  # a list is taken as already segmented


def pinyin_key(chinese: str) -> str:
    """Toneless pinyin with no separators: 大栗港 → "daligang" (ü written v, as pypinyin does)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(chinese))


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
