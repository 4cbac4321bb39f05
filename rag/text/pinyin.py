"""Chinese text as toneless pinyin, so that English names ("Ruyuan") meet the characters they spell (乳源).

English readers write Chinese place and person names in joined toneless pinyin; a passage is keyed
by the pinyin of its runs of 2–4 characters, and an English term that equals a key names them.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def pinyin_keys(text: str) -> frozenset:
    """Concatenations of 2–4 consecutive toneless syllables: "乳源县" → {"ruyuan", "yuanxian", "ruyuanxian"}."""
    from pypinyin import lazy_pinyin

    keys = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        syllables = lazy_pinyin(run)
        for i in range(len(syllables)):
            for n in (2, 3, 4):
                if i + n <= len(syllables):
                    keys.add("".join(syllables[i : i + n]))
    return frozenset(keys)
