"""Character bigrams: how much of one text another holds, without a word segmenter.

Chinese has no spaces and a model paraphrases, so "is this sentence in that passage?" is asked of
character pairs: citation support, near-duplicate passages in retrieval, the claims the eval metrics
check. One definition of a text's bigrams serves them all.
"""

from __future__ import annotations

import re

# What counts in a citation's comparison: letters, digits and Han characters (punctuation and spaces do not).
_KEPT = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


def char_bigrams(text: str) -> set[str]:
    """The two-character substrings of ``text``; a one-character text is its own bigram, an empty one has none."""
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def bigrams(text: str) -> set[str]:
    """Character bigrams of the letters, digits and CJK characters of (normalised) ``text``."""
    return char_bigrams("".join(_KEPT.findall(text.lower())))


def has_kept_chars(text: str) -> bool:
    """Does ``text`` hold anything :func:`bigrams` compares (a letter, a digit, a Han character)?"""
    return _KEPT.search(text) is not None
