"""Cut a cleaned document into passages: the unit that is embedded, retrieved and cited.

Defaults, for multilingual-e5-small (512-token window; Chinese runs about 1 token per 1–1.5 characters) and for
answers that cite one topic:

- ``target_chars=300``: short paragraphs are merged up to ~300 characters (≈ 200–300 tokens), about one news
  paragraph, so a chunk holds one topic and a cited passage is quick to read;
- ``max_chars=500``: a single paragraph up to 500 characters stays whole (≈ 330–500 tokens, still inside the
  512-token window with the "passage: " prefix); longer paragraphs are split at sentence ends;
- ``overlap_chars=50``: a split paragraph repeats its last whole sentence(s) of at most 50 characters at the start
  of the next piece, so a fact phrased across a sentence boundary is still found. Merged paragraphs do not overlap:
  a paragraph boundary is already a topic boundary.

Every chunk is an exact span of ``doc.text`` (``doc.text[start:end] == chunk.text``), so citations can be
highlighted in the original text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag.schema import Chunk, Document, Region
from rag.text.language import PIECE_END, sentence_spans, trim_span

DEFAULT_TARGET_CHARS = 300
DEFAULT_MAX_CHARS = 500
DEFAULT_OVERLAP_CHARS = 50
HEADING_MAX_CHARS = 40

_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")  # a run of non-blank lines
_CLAUSE_END = re.compile(r"[，,、：:]|\s")
_HEADING_END = set("。！？；!?;，,、：:…")
_CLOSERS = "”’」』\"')）]"


@dataclass(frozen=True)
class _Unit:
    """A piece to pack: a whole paragraph, or one sentence of a paragraph too long to keep whole."""

    start: int
    end: int
    paragraph: int
    paragraph_end: int
    heading: bool = False
    sentence: bool = False


def content_hash(text: str) -> str:
    """SHA-1 of a chunk's text: the index re-embeds a chunk only when this changes."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def chunk_id(source: str, start: int, text: str) -> str:
    """Stable id from where the chunk is and what it says (16 hex digits)."""
    return hashlib.sha1(f"{source}\x00{start}\x00{text}".encode("utf-8")).hexdigest()[:16]


def chunk_document(
    doc: Document,
    *,
    target_chars: int = DEFAULT_TARGET_CHARS,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap_chars: int = DEFAULT_OVERLAP_CHARS,
) -> list[Chunk]:
    """Split ``doc.text`` into chunks of whole paragraphs (merged while short) or whole sentences (when long)."""
    if not 0 < target_chars <= max_chars:
        raise ValueError(f"need 0 < target_chars <= max_chars, got {target_chars} and {max_chars}")
    chunks = []
    paragraphs = 0
    for region in doc.regions or (Region(0, len(doc.text)),):
        # A region (page, slide, table block) is chunked on its own: a chunk never spans two pages.
        text = doc.text[region.start:region.end]
        units = _units(text, max_chars, target_chars)
        for first, start, end in _pack(units, target_chars, max_chars, overlap_chars):
            start, end = start + region.start, end + region.start
            chunk_text = doc.text[start:end]
            chunks.append(Chunk(
                id=chunk_id(doc.source, start, chunk_text),
                source=doc.source,
                title=doc.title,
                paragraph=paragraphs + first,
                start=start,
                end=end,
                text=chunk_text,
                page=region.page,
                location=region.location,
                ocr=region.ocr,
            ))
        paragraphs += len(paragraph_spans(text))
    return chunks


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: runs of non-blank lines, trimmed of surrounding whitespace."""
    spans = []
    for match in _PARAGRAPH.finditer(text):
        start, end = trim_span(text, match.start(), match.end())
        if start < end:
            spans.append((start, end))
    return spans


def paragraph_pieces(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """The sentences of the paragraph ``text[start:end]`` as trimmed spans, cut after 。！？；!?; or … (any run of
    them, with the closing quotes after it; a Latin "." only before whitespace, so "3.5" and "www.x.cn" stay whole:
    rag.text.language.PIECE_END); a sentence over ``max_chars`` is cut at clause ends."""
    result = []
    for s, e in sentence_spans(text, start, end, ends=PIECE_END):
        result.extend(_hard_split(text, s, e, max_chars))
    return result


def is_heading(text: str) -> bool:
    """A short single line that does not end like a sentence ("聚焦组织体系建设", "建强乡村振兴“战斗堡垒”")."""
    if len(text) > HEADING_MAX_CHARS or "\n" in text:
        return False
    core = text.rstrip(_CLOSERS)
    return bool(core) and core[-1] not in _HEADING_END


def _units(text: str, max_chars: int, target_chars: int) -> list[_Unit]:
    """Paragraphs as units; paragraphs over ``max_chars`` as sentences, and so are those over ``target_chars``
    that could not share a chunk with the headings right before them."""
    units: list[_Unit] = []
    headings_start: int | None = None
    for index, (start, end) in enumerate(paragraph_spans(text)):
        heading = is_heading(text[start:end])
        too_long = end - start > max_chars or (
            not heading and headings_start is not None and end - headings_start > max_chars and end - start > target_chars
        )
        if too_long:
            units.extend(_Unit(s, e, index, end, sentence=True) for s, e in paragraph_pieces(text, start, end, max_chars))
        else:
            units.append(_Unit(start, end, index, end, heading=heading))
        if heading:
            headings_start = start if headings_start is None else headings_start
        else:
            headings_start = None
    return units


def _pack(units: list[_Unit], target: int, maximum: int, overlap: int) -> list[tuple[int, int, int]]:
    """Greedy packing into (first paragraph, start, end) spans.

    A unit joins the current chunk while the chunk stays within ``target``. Topic boundaries win over size:
    a heading starts a new chunk, and so does a paragraph too long to keep whole. Headings and short lead-in
    paragraphs bind forward: a chunk holding only those may grow to ``maximum`` to take the paragraph they
    introduce, and at the end of a full chunk they move on with it.
    """
    spans: list[tuple[int, int, int]] = []
    current: list[_Unit] = []
    for unit in units:
        if current:
            only_headings = all(u.heading for u in current)
            lead_in_only = all(u.heading or _is_short_paragraph(u) for u in current)
            length = unit.end - current[0].start
            new_paragraph = unit.paragraph != current[-1].paragraph
            fits = length <= target or (length <= maximum and (
                only_headings or (lead_in_only and not unit.heading and unit.end - unit.start > target)))
            if unit.sentence and not new_paragraph and unit.paragraph_end - unit.start <= target // 3:
                fits = unit.paragraph_end - current[0].start <= maximum  # take a short tail along, never leave it alone
            if (unit.heading and not only_headings) or (unit.sentence and new_paragraph and not lead_in_only):
                fits = False
            if not fits:
                carried = _overlap(current, unit, overlap, maximum) or _lead_in(current, unit, maximum)
                kept = current[: len(current) - len(carried)] if not carried or not carried[0].sentence else current
                spans.append((kept[0].paragraph, kept[0].start, kept[-1].end))
                current = carried
        current.append(unit)
    if current:
        spans.append((current[0].paragraph, current[0].start, current[-1].end))
    return spans


def _is_short_paragraph(unit: _Unit) -> bool:
    return not unit.sentence and unit.end - unit.start <= HEADING_MAX_CHARS


def _lead_in(previous: list[_Unit], following: _Unit, maximum: int) -> list[_Unit]:
    """Short whole paragraphs ending ``previous`` that introduce ``following`` ("党建引领产业发展,…新跨越。")."""
    if following.heading or following.paragraph == previous[-1].paragraph:
        return []
    moved: list[_Unit] = []
    for unit in reversed(previous[1:]):  # something must stay behind
        if not _is_short_paragraph(unit) or len(moved) == 2:
            break
        if following.end - unit.start > maximum:
            break
        moved.insert(0, unit)
    if moved and not all(u.heading for u in moved):
        # only a lead-in if the paragraph it introduces is itself a different, longer one
        if following.paragraph_end - following.start <= HEADING_MAX_CHARS:
            return []
    return moved


def _overlap(previous: list[_Unit], following: _Unit, overlap: int, maximum: int) -> list[_Unit]:
    """The last whole sentences of ``previous`` (≤ ``overlap`` chars) when ``following`` continues the same paragraph."""
    if overlap <= 0 or not following.sentence:
        return []
    carried: list[_Unit] = []
    for unit in reversed(previous[1:]):  # never carry the whole previous chunk
        if not unit.sentence or unit.paragraph != following.paragraph:
            break
        if following.start - unit.start > overlap or following.end - unit.start > maximum:
            break
        carried.insert(0, unit)
    return carried


def _hard_split(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than ``max_chars``, preferring the last clause mark or space before the limit."""
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = None
        for match in _CLAUSE_END.finditer(text, start + max_chars // 2, limit):
            cut = match.end()
        if cut is None:
            cut = limit
        s, e = trim_span(text, start, cut)
        if s < e:
            pieces.append((s, e))
        start, _ = trim_span(text, cut, end)
    s, e = trim_span(text, start, end)
    if s < e:
        pieces.append((s, e))
    return pieces

