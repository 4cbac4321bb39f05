"""Bytes of unknown encoding → normalised text.

Chinese collections arrive in every encoding a Windows or web tool ever wrote (GBK, Big5, UTF-16, UTF-8 with a
BOM). :func:`decode_bytes` tells which, by byte-order marks, strict UTF-8, NUL patterns and how plausible each
candidate decoding reads; :func:`normalize_text` gives every reader's text one canonical form (``\\n`` newlines, NFC,
no trailing spaces) so that chunk offsets, citations and the UI all point into the same text. Text that turns out
to be binary is refused with a one-line reason.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.files import DEFAULT_MAX_BYTES, read_bytes

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
    if 0xFF61 <= code <= 0xFFDC:
        return -1.0  # half-width katakana and hangul: GBK bytes misread as Shift-JIS, never in Chinese text
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
        hint="give it the right extension, or convert it to .txt, .md, .html, .pdf, .docx or .xlsx",
    )
