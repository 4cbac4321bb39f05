"""Chinese-aware tokens for keyword search (BM25).

Splitting Chinese on spaces finds nothing; this uses jieba's search-mode segmentation
(long words also yield their dictionary sub-words), keeps numbers whole ("2.7万", "13757",
"2021年"), folds traditional characters to simplified (OpenCC) and full-width forms to
half-width, and drops punctuation, particles and question words so that "多少/哪些/是什么"
do not dominate a query.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata

from rag.text.language import CJK_CHARS

# Question words, particles and function words that carry no topic. Kept small on purpose:
# BM25's IDF already discounts common words; these are the ones questions add.
STOP_WORDS = frozenset(
    """
    的 了 是 在 和 与 及 或 有 没有 多少 什么 哪些 哪个 哪里 哪 谁 吗 呢 吧 啊 呀 么 如何 怎么 怎样 为什么
    为何 几 个 这 那 这个 那个 这些 那些 其 之 等 也 都 而 被 把 对 从 以 为 于 上 中 下 里 内 将 已 已经
    就 还 又 并 即 则 所 该 各 每 请问 请 问 一下 能否 可以 是否 多 哪位 什么样 怎么样 叫 名字 呢 么样
    a an the of in on at to for and or is are was were be been what which who whom how many much
    do does did has have had with by from as that this these those it its
    """.split()
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:%|％)?(?:[万亿千百]+)?")
_CJK = re.compile(f"[{CJK_CHARS}]")
_WORDLIKE = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower-case, traditional → simplified."""
    text = unicodedata.normalize("NFKC", text).lower()
    if _CJK.search(text):
        text = _t2s().convert(text)
    return text


def tokenize(text: str) -> list[str]:
    """Search-mode tokens of ``text``: numbers whole, stop words and punctuation dropped."""
    text = normalize(text)
    tokens: list[str] = []
    pos = 0
    for m in _NUMBER.finditer(text):
        tokens.extend(_words(text[pos : m.start()]))
        number = m.group().replace(",", "")
        tokens.append(number)
        # "2.7万" should also meet "2.7"; "13757" stays whole.
        digits = re.match(r"\d+(?:\.\d+)?", number).group()
        if digits != number:
            tokens.append(digits)
        pos = m.end()
    tokens.extend(_words(text[pos:]))
    return tokens


def _words(text: str) -> list[str]:
    if not text.strip():
        return []
    out = []
    for w in _jieba().cut_for_search(text):
        w = w.strip()
        if not w or w in STOP_WORDS or not _WORDLIKE.search(w):
            continue
        out.append(w)
    return out
