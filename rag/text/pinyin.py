"""Chinese text as toneless pinyin, so that English names ("Ruyuan") meet the characters they spell (乳源).

English readers write Chinese place and person names in joined toneless pinyin. Names are 2–4 characters
(most without their 县/镇/村 suffix as well as with it), so text is keyed by the pinyin of its runs of 2–4
characters: the collection's term index keys each n-gram (rag/retrieve/crosslingual/terms.py), the answer
checks key a passage or a sentence (:func:`pinyin_keys`). A run is read whole, as pypinyin segments it, so a
polyphonic character is read as in its word (长江 "changjiang", 县长 "xianzhang").
"""

from __future__ import annotations

import functools
import re

NGRAM_CHARS = (2, 3, 4)

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def ngram_slices(length: int):
    """The slices of the 2–4-character n-grams of a run of ``length`` characters (or syllables)."""
    for n in NGRAM_CHARS:
        for i in range(length - n + 1):
            yield slice(i, i + n)


def ngrams(text: str) -> set[str]:
    """The 2–4-character n-grams of the Chinese runs of ``text`` (the name candidates)."""
    return {run[s] for run in _CJK_RUN.findall(text) for s in ngram_slices(len(run))}


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


@functools.lru_cache(maxsize=4096)
def pinyin_keys(text: str) -> frozenset:
    """Concatenations of 2–4 consecutive toneless syllables: "乳源县" → {"ruyuan", "yuanxian", "ruyuanxian"}."""
    keys = set()
    for run in _CJK_RUN.findall(text):
        syllables = run_syllables(run)
        keys.update("".join(syllables[s]) for s in ngram_slices(len(syllables)))
    return frozenset(keys)
