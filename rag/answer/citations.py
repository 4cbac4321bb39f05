"""Check every ``[n]`` of a generated answer against passage n, and fix what the model got wrong.

Small models cite the wrong passage, cite nothing, or cite a passage that does not say
what the sentence says. Each answer sentence is compared with each passage:
- Chinese sentences by character-bigram coverage: the share of the sentence's bigrams
  found in the best window (one or two consecutive sentences) of the passage;
- numbers must match exactly (by value: "9.5" = "9.50", "2.7万" = "27,000"), a sentence
  with a number the passage lacks is not supported by it, however similar the words;
- sentences in another language are checked on what can be checked across languages:
  numbers, Chinese written in them ("Ruyuan (乳源)") and pinyin names ("Ruyuan"); like
  numbers, every Chinese run they quote must be in the passage.
A citation that does not support its sentence is removed; a sentence is re-cited to the
passage that supports it best; a sentence no passage supports, or with nothing checkable in
it, is dropped (and reported).
Numbers are then renumbered 1..m in order of first use, so ``[k]`` in the text is
``citations[k-1]``, and each Citation carries the supporting span in document coordinates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.schema import Citation, Passage
from rag.text.bigrams import bigrams, has_kept_chars
from rag.text.language import detect_language, sentence_spans
from rag.text.pinyin import pinyin_keys
from rag.text.tokenize import normalize

# A sentence counts as supported by a passage window holding at least this share of its
# character bigrams (and every number in it). Chosen on seed_dev answers: model paraphrases
# of a passage sentence score 0.6–1.0, sentences about another passage of the same article
# 0.1–0.4 (see docs/answering.md).
SUPPORT_THRESHOLD = 0.5

MARKER = re.compile(r"\s*[\[【［]\s*(\d{1,2}(?:\s*[,，、\-–]\s*\d{1,2})*)\s*[\]】］]")
_NUMBER_WITH_UNIT = re.compile(
    r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万亿|亿|万|千|thousand|million|billion|k\b)?", re.IGNORECASE
)
_MULTIPLIER = {"万": 1e4, "亿": 1e8, "万亿": 1e12, "千": 1e3, "thousand": 1e3, "k": 1e3, "million": 1e6, "billion": 1e9}
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
_TRAILING = "，,；;：:。.!！?？ "


@dataclass
class _Support:
    score: float | None  # None: nothing in the sentence can be checked against Chinese text
    start: int = 0  # best supporting window, offsets in the passage text
    end: int = 0


def verify_citations(answer_text: str, passages: list[Passage]) -> tuple[str, list[Citation], dict]:
    """The answer with verified, renumbered ``[n]`` markers; its citations; and what was changed.

    ``[n]`` in ``answer_text`` refers to ``passages[n-1]``. The report lists, per sentence,
    the markers the model wrote, the passages kept and the status
    (``kept`` / ``recited`` / ``added`` / ``dropped``). A sentence with nothing checkable in it (no
    Chinese, number or pinyin name: "PWNED [1].") is dropped: a citation nobody verified would let
    a prompt-injected sentence pass as cited.
    """
    sentences = split_cited_sentences(answer_text)
    report: dict = {"sentences": [], "removed": 0, "recited": 0, "dropped": 0}
    kept: list[tuple[str, str, list[int], dict[int, _Support]]] = []
    for claim, cited, punct in sentences:
        supports = {i: support(claim, p) for i, p in enumerate(passages)}
        valid_cited = [n for n in cited if 1 <= n <= len(passages)]
        good = [n for n in valid_cited if _supports(supports[n - 1])]
        status = "kept"
        if not good:
            best = max(supports, key=lambda i: supports[i].score or 0.0, default=None)
            if best is not None and _supports(supports[best]):
                good = [best + 1]
                status = "recited" if cited else "added"
                report["recited"] += bool(cited)
        report["removed"] += len(set(cited) - set(good))
        entry = {"text": claim, "cited": cited, "passages": good, "status": status}
        entry["support"] = {n: _round(supports[n - 1].score) for n in sorted(set(valid_cited) | set(good))}
        # The supporting window per kept passage (offsets in its text): what rag/answer/answerability judges.
        entry["spans"] = {n: [supports[n - 1].start, supports[n - 1].end] for n in good}
        if not good:
            entry["status"] = "dropped"
            report["dropped"] += 1
        else:
            kept.append((claim, punct, good, {n: supports[n - 1] for n in good}))
        report["sentences"].append(entry)

    numbering: dict[int, int] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    pieces = []
    for claim, punct, good, sup in kept:
        markers = ""
        for n in good:
            numbering.setdefault(n, len(numbering) + 1)
            spans.setdefault(n, []).append((sup[n].start, sup[n].end))
            markers += f"[{numbering[n]}]"
        space = "" if detect_language(claim) == "zh" else " "
        pieces.append(claim + space + markers + punct)
    text = "".join(pieces) if detect_language(answer_text) == "zh" else " ".join(pieces)

    citations = []
    for n, new in sorted(numbering.items(), key=lambda kv: kv[1]):
        a = min(s for s, _ in spans[n])
        b = max(e for _, e in spans[n])
        citations.append(Citation.of(new, passages[n - 1], a, b))
    report["renumbered"] = {str(old): new for old, new in numbering.items()}
    return text, citations, report


def split_cited_sentences(answer_text: str) -> list[tuple[str, list[int], str]]:
    """``(claim, cited numbers, end punctuation)`` per sentence; markers written after the full
    stop ("…企业。[1]") belong to the sentence before them."""
    out: list[tuple[str, list[int], str]] = []
    for a, b in sentence_spans(answer_text):
        sentence = answer_text[a:b]
        lead = re.match(r"(?:" + MARKER.pattern + r")+", sentence)
        if lead and out:
            out[-1][1].extend(_marker_numbers(lead.group()))
            sentence = sentence[lead.end() :]
        cited = _marker_numbers(sentence)
        claim = MARKER.sub("", sentence).strip()
        stripped = claim.rstrip(_TRAILING)
        punct = claim[len(stripped) :].strip()
        if not has_kept_chars(normalize(stripped)):
            if out and cited:
                out[-1][1].extend(cited)
            continue
        out.append((stripped, cited, punct))
    for _claim, cited, _punct in out:
        cited[:] = list(dict.fromkeys(cited))
    return out


def _marker_numbers(text: str) -> list[int]:
    numbers = []
    for m in MARKER.finditer(text):
        for part in re.split(r"\s*[,，、]\s*", m.group(1)):
            if re.fullmatch(r"\d+\s*[\-–]\s*\d+", part):
                lo, hi = (int(x) for x in re.split(r"\s*[\-–]\s*", part))
                numbers.extend(range(lo, min(hi, lo + 10) + 1))
            else:
                numbers.append(int(part))
    return numbers


def _supports(s: _Support) -> bool:
    return s.score is not None and s.score >= SUPPORT_THRESHOLD


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


# --- support of one sentence by one passage -----------------------------------------------------


def support(claim: str, passage: Passage) -> _Support:
    """How well ``passage`` supports ``claim`` (0..1, None if uncheckable) and where."""
    text = passage.text
    windows = _windows(text)
    claim_norm = normalize(claim)
    claim_numbers = number_values(claim_norm, claim=True)
    chinese = detect_language(claim) == "zh"
    # Facts checked by presence, not by share: every number of the claim and, across languages,
    # every Chinese run it quotes ("South China Agricultural University (华南农业大学)") must be in
    # the passage, or the claim is about another one, however many of its names this one shares.
    if (claim_numbers and not _numbers_found(claim_numbers, number_values(normalize(text)))) or (
        not chinese and _quotes_missing(claim_norm, text)
    ):
        a, b = windows[0] if windows else (0, len(text))
        return _Support(0.0, a, b)
    if chinese:
        grams = bigrams(claim_norm)
        if not grams:
            return _Support(None)
        # Highest coverage wins; on a tie the shorter window, so the highlight is the supporting sentence.
        best = max(
            ((len(grams & bigrams(normalize(text[a:b]))) / len(grams), a, b) for a, b in windows),
            key=lambda t: (round(t[0], 6), -(t[2] - t[1])),
            default=(0.0, 0, len(text)),
        )
        return _Support(*best)
    return _cross_lingual_support(claim_norm, claim_numbers, text, windows)


def _quotes_missing(claim: str, text: str) -> bool:
    """Does the passage lack (bigram coverage below SUPPORT_THRESHOLD) a Chinese run the claim quotes?"""
    runs = _CJK_RUN.findall(claim)
    if not runs:
        return False
    passage_grams = bigrams(normalize(text))
    return any(len(bigrams(run) & passage_grams) / len(bigrams(run)) < SUPPORT_THRESHOLD for run in runs)


def _cross_lingual_support(claim: str, claim_numbers: list[set[float]], text: str, windows) -> _Support:
    """Numbers, embedded Chinese and pinyin names are all that can be compared across languages."""
    cjk_runs = _CJK_RUN.findall(claim)
    words = [w for w in re.findall(r"[a-z]{4,}", claim)]
    if not claim_numbers and not cjk_runs and not words:
        return _Support(None)
    best: tuple[float, int, int] | None = None
    for a, b in windows:
        window = normalize(text[a:b])
        checks = []
        if claim_numbers:
            found = number_values(window)
            checks.extend(_numbers_found([v], found) for v in claim_numbers)
        for run in cjk_runs:
            grams = bigrams(run)
            checks.append(len(grams & bigrams(window)) / len(grams) >= SUPPORT_THRESHOLD)
        pinyin = pinyin_keys(window)
        names = [w for w in words if w in pinyin]
        checks.extend(True for _ in names)
        if not checks:
            continue
        score = sum(checks) / len(checks)
        if best is None or score > best[0] or (score == best[0] and b - a < best[2] - best[1]):
            best = (score, a, b)
    if best is None:
        return _Support(None if not claim_numbers and not cjk_runs else 0.0)
    return _Support(*best)


def _windows(text: str) -> list[tuple[int, int]]:
    """One sentence, or two consecutive ones (an answer may merge two short sentences)."""
    spans = sentence_spans(text) or [(0, len(text))]
    out = list(spans)
    out.extend((spans[i][0], spans[i + 1][1]) for i in range(len(spans) - 1))
    return out


def number_values(text: str, *, claim: bool = False) -> list[set[float]]:
    """Each number of ``text`` as the set of values it may stand for ("2.7万" → {2.7, 27000}).

    A passage's "2.7万" supports a claim's "2.7" (the unit written apart) and "27000"; a
    *claim's* number with a unit stands only for its value (``claim=True``), so a model's
    "2.7 million" for 2.7万 or "722 billion" for 722亿 is not supported."""
    out = []
    for m in _NUMBER_WITH_UNIT.finditer(text):
        raw = float(m.group(1).replace(",", ""))
        values = {raw}
        if m.group(2):
            scaled = raw * _MULTIPLIER[m.group(2).lower()]
            values = {scaled} if claim else {raw, scaled}
        out.append({round(v, 6) for v in values})
    return out


def _numbers_found(claim_numbers: list[set[float]], passage_numbers: list[set[float]]) -> bool:
    available = set().union(*passage_numbers) if passage_numbers else set()
    return all(values & available for values in claim_numbers)


__all__ = ["SUPPORT_THRESHOLD", "verify_citations", "split_cited_sentences", "support", "number_values"]
