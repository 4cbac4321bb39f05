"""The question's language and the sentence units of a text.

Answers follow the question's language, so the pipeline needs a cheap, dependable
"is this Chinese?" test; answers and passages are checked sentence by sentence, so
citations, context selection and the extractive answerer share one sentence splitter
that keeps offsets (spans point back into the passage text). The chunker cuts a paragraph
too long to keep whole with the same splitter, at more places (``PIECE_END``).
"""

from __future__ import annotations

import re

# Han characters: CJK Unified Ideographs, Extension A and the compatibility block — the one definition the
# tokenizer, the language check and the cleaner share.
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{CJK_CHARS}]")
_LATIN = re.compile(r"[A-Za-z]")

# A share of CJK letters above this counts as Chinese: "乳源的GDP是多少" is Chinese,
# "What does 乳源 mean?" is not.
CJK_SHARE_FOR_CHINESE = 0.3

# Sentence ends: Chinese full stops always; "." "!" "?" only before whitespace or the end,
# so "2.7万" and "U.S." inside a sentence stay whole; line ends. Closing quotes/brackets
# belong to the sentence they close.
SENTENCE_END = re.compile(r"(?:[。！？!?]+|\.(?=\s|$)|\n+)[”’」』）)】\"']*")
# Where the chunker (rag/ingest/chunking.py) may cut a paragraph too long to keep whole: also after
# ；; and …, since a run of measures joined by semicolons is a fine place to cut a 500-character
# paragraph; "." only before whitespace; the lines of a paragraph stay together.
PIECE_END = re.compile(r"(?:[。！？；!?;…]+|\.(?=\s))[”’」』\"')）\]]*")
_CLAUSE_END = re.compile(r"[，,；;：:]")


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of ``text`` (0.0 when it has none)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def detect_language(text: str) -> str:
    """``"zh"`` for Chinese text, ``"en"`` for anything else (the non-Chinese answer language).

    Text with no letters at all (``"2023?"``) counts as Chinese, the documents' language.
    """
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return "zh"
    return "zh" if cjk / (cjk + latin) >= CJK_SHARE_FOR_CHINESE else "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def sentence_spans(text: str, start: int = 0, end: int | None = None, *,
                   ends: re.Pattern = SENTENCE_END) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text[start:end]`` (offsets in ``text``), surrounding
    whitespace excluded, end punctuation included; ``ends`` says where a sentence ends."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    for m in ends.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    spans.append((pos, end))
    return [s for s in (trim_span(text, a, b) for a, b in spans) if s[0] < s[1]]


def clause_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clauses of ``text[start:end]`` split at commas, semicolons and colons (offsets in ``text``)."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    for m in _CLAUSE_END.finditer(text, start, end):
        if text[m.start()] in ",." and _between_digits(text, m.start()):
            continue  # "22,689" is one number
        spans.append((pos, m.end()))
        pos = m.end()
    spans.append((pos, end))
    return [s for s in (trim_span(text, a, b) for a, b in spans) if s[0] < s[1]]


def _between_digits(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` without the whitespace at either side (empty, ``start == end``, when it is all whitespace)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
