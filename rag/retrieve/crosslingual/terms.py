"""The per-collection term index: documents' language, dictionary terms, pinyin of n-grams.

Built with every index version (rag.store.index.write_version) from the chunks' text and written
beside the BM25 index as JSON (no pickle)::

    crosslingual/terms.json       {"format", "language", "terms": {headword: chunk count},
                                   "pinyin": {n-gram: toneless pinyin}}
    crosslingual/dictionary.json  {English key: [headwords in the collection]}

Updating is incremental where it costs: pinyin of n-grams the previous version already
keyed is reused, so only new text goes through pypinyin; n-grams of removed text vanish
because the index is recomputed from the chunks the new version holds.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rag.text import pinyin
from rag.text.language import CJK_SHARE_FOR_CHINESE, cjk_share
from rag.text.tokenize import normalize

from . import dictionary

FORMAT = 2  # 2: dictionary keys of words met only in multi-word senses ("~rural")
DIRNAME = "crosslingual"
_LANGUAGE_SAMPLE_CHARS = 200_000


def documents_language(texts: list[str]) -> str:
    """"zh" when Chinese characters dominate the collection's letters, else "en" (other)."""
    sample, size = [], 0
    step = max(1, len(texts) // 200)
    for t in texts[::step]:
        sample.append(t)
        size += len(t)
        if size > _LANGUAGE_SAMPLE_CHARS:
            break
    text = "\n".join(sample)
    if not text.strip():
        return "zh"
    return "zh" if cjk_share(text) >= CJK_SHARE_FOR_CHINESE else "en"


@dataclass
class CollectionTerms:
    language: str = "zh"
    terms: dict[str, int] = field(default_factory=dict)  # CC-CEDICT headword → chunks holding it
    pinyin: dict[str, str] = field(default_factory=dict)  # character n-gram → toneless pinyin
    dictionary: dict[str, list[str]] = field(default_factory=dict)  # English key → headwords
    _by_key: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def names(self) -> dict[str, list[str]]:
        """Toneless pinyin → the collection's n-grams spelled so (built on first use)."""
        if self._by_key is None:
            by_key: dict[str, list[str]] = {}
            for gram, key in self.pinyin.items():
                by_key.setdefault(key, []).append(gram)
            self._by_key = {k: sorted(v) for k, v in by_key.items()}
        return self._by_key

    def save(self, version_dir: Path) -> None:
        d = Path(version_dir) / DIRNAME
        d.mkdir(parents=True, exist_ok=True)
        body = {"format": FORMAT, "language": self.language, "terms": self.terms, "pinyin": self.pinyin}
        (d / "terms.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        (d / "dictionary.json").write_text(json.dumps(self.dictionary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, version_dir: Path) -> "CollectionTerms | None":
        """The saved index, or None for versions written before it existed (or by another format)."""
        d = Path(version_dir) / DIRNAME
        try:
            body = json.loads((d / "terms.json").read_text(encoding="utf-8"))
            if body.get("format") != FORMAT:
                return None
            words = json.loads((d / "dictionary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls(body["language"], body["terms"], body["pinyin"], words)


def build_collection_terms(texts: list[str], previous: CollectionTerms | None = None) -> CollectionTerms:
    """The term index of a collection whose chunks (title + text) are ``texts``."""
    language = documents_language(texts)
    if language != "zh":
        return CollectionTerms(language=language)
    known = dictionary.headwords()
    df: Counter = Counter()
    keyed = dict(previous.pinyin) if previous is not None else {}
    grams_seen: set[str] = set()
    for raw in texts:
        text = normalize(raw)
        df.update(dictionary.find_headwords(text, known))
        grams = pinyin.ngrams(text)
        grams_seen |= grams
        if any(g not in keyed for g in grams):
            _key_new_grams(text, keyed)
    terms = dict(sorted(df.items()))
    return CollectionTerms(
        language=language,
        terms=terms,
        pinyin={g: keyed[g] for g in sorted(grams_seen) if g in keyed},
        dictionary=dictionary.build_dictionary_index(terms),
    )


def _key_new_grams(text: str, keyed: dict[str, str]) -> None:
    """Pinyin of every not-yet-keyed n-gram, read in context (a run is read whole, as pypinyin segments it)."""
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        if len(run) < 2 or all(run[s] in keyed for s in pinyin.ngram_slices(len(run))):
            continue  # nothing new: a repeated title or overlap sentence
        syl = pinyin.run_syllables(run)
        if len(syl) != len(run):  # pypinyin keeps unknown characters as one piece; key them alone
            syl = [pinyin.pinyin_key(ch) for ch in run]
        for s in pinyin.ngram_slices(len(run)):
            keyed.setdefault(run[s], "".join(syl[s]))
