"""Read document files into cleaned text: the first step of the data path.

Chinese collections arrive in every encoding a Windows or web tool ever wrote (GBK, Big5, UTF-16, UTF-8 with a
BOM), as plain text, Markdown or saved web pages. Everything here turns such a file into one normalised string
(``\\n`` newlines, NFC, no trailing spaces) so that chunk offsets, citations and the UI all point into the same text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.cleaning import clean_text, find_boilerplate
from rag.errors import DocumentError, YuanwenError
from rag.schema import Document

TEXT_SUFFIXES = frozenset({".txt", ".text"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Larger files are refused: a 20 MB text is a whole book shelf, more likely a log or a dump than a document."""

TITLE_MAX_CHARS = 64
TITLE_MIN_CHARS = 4
"""A first line shorter than this is usually a site label ("数字报"), so the next short line is tried as title."""

_BOMS = (  # UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one.
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Encodings that have a wider superset: decode with the superset so rare characters do not fail.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "hz": "gb18030", "big5": "cp950", "ascii": "utf-8"}
# Tried besides charset-normalizer's guesses: short CJK texts are often guessed as Thai or Korean codepages.
_CJK_FALLBACKS = ("gb18030", "cp950", "utf_16_le", "utf_16_be")
_SCORED_CHARS = 4000
_CONTROL_SHARE_MAX = 0.05
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Yield ``(file, source)`` for every supported file under ``paths``.

    ``source`` is the file's path relative to the folder given (or its name for a file given directly): it is
    what answers cite, so it must not depend on where the folder sits on disk. Folders are walked recursively in
    sorted order; hidden files and folders (``.git``, ``.DS_Store``) and unsupported types are skipped.
    """
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise YuanwenError(f"No such file or folder: {path}", hint="check the path, or run from the folder that holds it")
        if path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise DocumentError(
                    f"Unsupported file type: {path.name}",
                    hint=f"convert it to one of {', '.join(sorted(SUPPORTED_SUFFIXES))}",
                )
            yield path, path.name
            continue
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES:
                yield file, relative.as_posix()


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file, refusing it before reading when it is larger than ``max_bytes``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                f"{path.name} is {size:,} bytes, over the limit of {max_bytes:,} bytes",
                hint="split the file, or raise the limit (max_bytes / --max-bytes)",
            )
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"Cannot read {path}: {exc.strerror or exc}", hint="check that the file exists and is readable") from exc


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a text file in whatever encoding it was saved, as normalised text."""
    path = Path(path)
    return normalize_text(decode_bytes(read_bytes(path, max_bytes), name=path.name))


def decode_bytes(data: bytes, name: str = "<bytes>", declared: str | None = None) -> str:
    """Decode bytes of unknown encoding.

    Order: byte-order marks, then strict UTF-8 (by far the most common, and never a false positive on real CJK
    legacy text), then BOM-less UTF-16 recognised by its NUL bytes, then candidates from an HTML ``charset``
    declaration, charset-normalizer and the CJK codepages, ranked by how plausible the decoded text is.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_or_fail(data, encoding, name)
    try:
        return _check_not_binary(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        pass
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return _check_not_binary(utf16, name)
    if b"\x00" in data:
        raise _binary_error(name)
    candidates: list[str] = []
    if declared:
        candidates.append(declared)
    candidates += _charset_normalizer_guesses(data)
    candidates += _CJK_FALLBACKS
    best_text, best_score = None, float("-inf")
    for encoding in dict.fromkeys(_canonical_encoding(c) for c in candidates):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = _plausibility(text)
        if score > best_score:
            best_text, best_score = text, score
    if best_text is None:
        raise DocumentError(
            f"Cannot tell the text encoding of {name}",
            hint="save the file as UTF-8 (most editors: 'Save with encoding' → UTF-8)",
        )
    return _check_not_binary(best_text, name)


def normalize_text(text: str) -> str:
    """One canonical form for offsets: ``\\n`` newlines, NFC, no trailing spaces, no stray BOM.

    NFC (not NFKC): full-width punctuation is how Chinese is written and must survive.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


@dataclass(frozen=True)
class ExtractedText:
    """Text and title of one file before cleaning; ``title`` is empty when the format has none."""

    title: str
    text: str


def extract_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ExtractedText:
    """Read any supported file as plain text (HTML markup removed, Markdown markers stripped)."""
    path = Path(path)
    suffix = path.suffix.lower()
    data = read_bytes(path, max_bytes)
    if suffix in HTML_SUFFIXES:
        declared = _META_CHARSET.search(data[:4096])
        html = decode_bytes(data, name=path.name, declared=declared.group(1).decode("ascii") if declared else None)
        title, text = html_to_text(html)
        return ExtractedText(title=normalize_text(title), text=normalize_text(text))
    text = normalize_text(decode_bytes(data, name=path.name))
    if suffix in MARKDOWN_SUFFIXES:
        text = markdown_to_text(text)
    return ExtractedText(title="", text=text)


def load_document(
    path: Path,
    source: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    boilerplate: frozenset[str] = frozenset(),
) -> Document:
    """Read and clean one file. ``boilerplate`` comes from :func:`rag.cleaning.find_boilerplate` over the collection."""
    extracted = extract_text(path, max_bytes)
    return _to_document(Path(path), source, extracted, boilerplate)


@dataclass
class LoadedDocuments:
    """Documents read from a collection, and the files that could not be read (with the reason)."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, DocumentError]] = field(default_factory=list)
    boilerplate: frozenset[str] = frozenset()


def load_documents(
    paths: Iterable[Path],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    boilerplate_min_docs: int = 3,
) -> LoadedDocuments:
    """Read a whole collection: page furniture repeated across its files is found first, then every file cleaned.

    A file named directly that cannot be read raises; an unreadable file inside a folder is skipped and reported,
    so one stray binary does not stop indexing a folder of thousands.
    """
    paths = [Path(p) for p in paths]
    named_files = {p.resolve() for p in paths if p.is_file()}
    extracted: list[tuple[Path, str, ExtractedText]] = []
    result = LoadedDocuments()
    for file, source in iter_files(paths):
        try:
            extracted.append((file, source, extract_text(file, max_bytes)))
        except DocumentError as exc:
            if file.resolve() in named_files:
                raise
            result.skipped.append((source, exc))
    result.boilerplate = find_boilerplate([e.text for _, _, e in extracted], min_docs=boilerplate_min_docs)
    result.documents = [_to_document(f, s, e, result.boilerplate) for f, s, e in extracted]
    return result


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of a web page with one paragraph per block element, and its title.

    Page furniture (script, style, nav, aside, and header/footer outside an ``<article>``) is dropped first. The title is the
    first ``<h1>`` of what remains, else ``<title>``: ``<title>`` usually carries the site name as well.
    """
    from selectolax.lexbor import LexborHTMLParser  # imported on use: only HTML files need it

    tree = LexborHTMLParser(html)
    head_title = tree.css_first("title")
    title = head_title.text(strip=True) if head_title is not None else ""
    for node in tree.css(",".join(_DROPPED_TAGS)):
        node.decompose()
    for node in tree.css(",".join(_FURNITURE_TAGS)):
        if not _inside(node, _CONTENT_TAGS):  # an article's own <header> holds its title and date
            node.decompose()
    h1 = tree.css_first("h1")
    if h1 is not None and h1.text(strip=True):
        title = h1.text(strip=True)
    root = tree.body or tree.root
    if root is None:
        return _collapse_spaces(title), ""
    pieces: list[str] = []
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:  # iterative walk: deeply nested pages must not hit the recursion limit
        node, closing = stack.pop()
        tag = node.tag
        if closing:
            pieces.append("\n\n")
            continue
        if tag == "-text":
            pieces.append(_HTML_SPACE.sub(" ", node.text(deep=False) or ""))
            continue
        if tag == "br":
            pieces.append("\n")
            continue
        if tag is None or tag.startswith("-") or tag.startswith("_"):  # comments, doctype
            continue
        if tag in _PRE_TAGS:
            pieces.append("\n\n" + (node.text(deep=True) or "") + "\n\n")
            continue
        block = tag in _BLOCK_TAGS
        if block:
            pieces.append("\n\n")
            stack.append((node, True))
        elif tag in _CELL_TAGS:
            pieces.append(" ")
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    lines = [line.strip() for line in "".join(pieces).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _collapse_spaces(title), text


def markdown_to_text(text: str) -> str:
    """Markdown as readers see it: heading markers, link targets and emphasis marks removed.

    Citations quote chunk text, so ``## 标题`` and ``[文字](http://…)`` would otherwise show up in answers.
    """
    text = _MD_HEADING.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return text


def pick_title(text: str, fallback: str = "") -> str:
    """The document's title: its first line, unless that is a tiny site label, cut to :data:`TITLE_MAX_CHARS`."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return fallback
    title = lines[0]
    if len(title) < TITLE_MIN_CHARS:
        title = next((line for line in lines[1:3] if TITLE_MIN_CHARS <= len(line) <= TITLE_MAX_CHARS), title)
    return _shorten_title(title.lstrip("#").strip())


def _shorten_title(title: str) -> str:
    return title if len(title) <= TITLE_MAX_CHARS else title[: TITLE_MAX_CHARS - 1].rstrip() + "…"


def _to_document(path: Path, source: str, extracted: ExtractedText, boilerplate: frozenset[str]) -> Document:
    cleaned = clean_text(extracted.text, boilerplate=boilerplate).text
    title = _shorten_title(extracted.title) if extracted.title else pick_title(cleaned, fallback=path.stem)
    return Document(source=source, title=title, text=cleaned, path=str(path))


_DROPPED_TAGS = ("script", "style", "noscript", "template", "nav", "aside", "svg", "iframe", "button", "select",
                 "head")
_FURNITURE_TAGS = ("header", "footer")
_CONTENT_TAGS = frozenset({"article", "main"})
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "html", "li", "main", "ol", "p",
    "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
})
_CELL_TAGS = frozenset({"td", "th"})
_PRE_TAGS = frozenset({"pre", "textarea"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+|[ \t]+#+[ \t]*$", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(\S(?:[^\n]*?\S)?)\1")


def _inside(node, tags: frozenset[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _canonical_encoding(name: str) -> str:
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return name
    return _SUPERSET.get(name, name)


def _decode_or_fail(data: bytes, encoding: str, name: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name} starts with a {encoding} byte-order mark but is not valid {encoding}",
            hint="re-save the file as UTF-8",
        ) from exc
    return _check_not_binary(text, name)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM: ASCII characters (newlines, digits) leave NULs at every other byte."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    nuls = even_nuls + odd_nuls
    if not nuls:  # no ASCII at all: left to the scored candidates
        return None
    if odd_nuls >= 0.95 * nuls:
        encoding = "utf-16-le"
    elif even_nuls >= 0.95 * nuls:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return text if _plausibility(text) > 0.5 else None


def _charset_normalizer_guesses(data: bytes, limit: int = 5) -> list[str]:
    from charset_normalizer import from_bytes  # imported on use: only non-UTF-8 files need it

    return [match.encoding for match in list(from_bytes(data))[:limit]]


def _char_weight(ch: str) -> float:
    """How likely a character is in a real document; misdecoded CJK turns into rare or foreign characters."""
    code = ord(ch)
    if code < 0x80:
        return 1.0 if ch.isprintable() or ch in "\n\t\r" else -2.0
    if 0x4E00 <= code <= 0x9FFF:
        return 1.0 if _is_common_hanzi(ch) else 0.3
    if 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2010 <= code <= 0x206F:
        return 1.0  # CJK and general punctuation, full-width forms
    if 0xC0 <= code <= 0xFF:
        return 0.9  # accented Latin-1 letters (Western European)
    if 0x100 <= code <= 0x17F:
        return 0.7  # Latin Extended-A: Central European, rarer
    if 0xE000 <= code <= 0xF8FF or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
        return -2.0  # private use, control, unassigned: a wrong codepage
    return 0.2


def _is_common_hanzi(ch: str) -> bool:
    """In GB2312 level 1 (3,755 commonest simplified) or Big5 level 1 (5,401 commonest traditional characters)."""
    try:
        gb = ch.encode("gb2312")
        if 0xB0 <= gb[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        big5 = ch.encode("big5")
        return 0xA440 <= int.from_bytes(big5, "big") <= 0xC67E
    except UnicodeEncodeError:
        return False


def _plausibility(text: str) -> float:
    sample = text[:_SCORED_CHARS]
    if not sample:
        return 0.0
    return sum(_char_weight(ch) for ch in sample) / len(sample)


def _control_share(text: str) -> float:
    sample = text[:_SCORED_CHARS]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    return controls / len(sample)


def _check_not_binary(text: str, name: str) -> str:
    if "\x00" in text[:_SCORED_CHARS] or _control_share(text) > _CONTROL_SHARE_MAX:
        raise _binary_error(name)
    return text


def _binary_error(name: str) -> DocumentError:
    return DocumentError(
        f"{name} looks like a binary file, not text",
        hint="convert it to .txt, .md or .html first (PDF and Word files need converting)",
    )
