"""Saved web pages → their visible text, one paragraph per block element, and data tables as "列名：值" rows.

Page furniture (scripts, navigation, asides, and headers/footers outside an ``<article>``) is dropped before the
walk; the title is the first ``<h1>`` of what remains, else ``<title>``. The page's declared ``charset`` is a hint
for decoding (rag/ingest/encodings.py), not the last word.
"""

from __future__ import annotations

import re

from rag.ingest.files import collapse_spaces
from rag.ingest.layout import SECTION_SEPARATOR, Section

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
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
_CAPTION_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "strong", "b"})
_PRE_TAGS = frozenset({"pre", "textarea"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


def declared_charset(data: bytes) -> str | None:
    """The ``<meta charset>`` a page declares in its first 4 KB, if any."""
    declared = _META_CHARSET.search(data[:4096])
    return declared.group(1).decode("ascii") if declared else None


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of a web page with one paragraph per block element, and its title.

    Page furniture (script, style, nav, aside, and header/footer outside an ``<article>``) is dropped first. The title is the
    first ``<h1>`` of what remains, else ``<title>``: ``<title>`` usually carries the site name as well.
    """
    title, sections = html_to_sections(html)
    return title, SECTION_SEPARATOR.join(s.text for s in sections)


def html_to_sections(html: str) -> tuple[str, list[Section]]:
    """:func:`html_to_text` as sections: the text around data tables, and each table as "列名：值" rows."""
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
        return collapse_spaces(title), []
    pieces: list[str | Section] = []
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
        if tag == "table":
            rows_text = _html_table(node)
            if rows_text is not None:
                pieces.append(Section(rows_text, table=True))
                continue
        block = tag in _BLOCK_TAGS
        if block:
            pieces.append("\n\n")
            stack.append((node, True))
        elif tag in _CELL_TAGS:
            pieces.append(" ")
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    sections: list[Section] = []
    run: list[str] = []
    for piece in [*pieces, None]:
        if isinstance(piece, str):
            run.append(piece)
            continue
        lines = [line.strip() for line in "".join(run).split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        if text:
            sections.append(Section(text))
        if piece is not None:
            sections.append(piece)
        run = []
    return collapse_spaces(title), sections


def _html_table(node) -> str | None:
    """A data table as "列名：值" rows (:mod:`rag.text.tables`); None for a layout table (one column, or tables inside),
    which is walked as ordinary blocks."""
    from rag.text.tables import html_table_grid, is_caption, table_text

    if len(node.css("table")) > 1:  # the node itself and a table inside it
        return None
    grid, caption = html_table_grid(node)
    if max((len(row) for row in grid), default=0) < 2 or len(grid) < 2:
        return None
    if not caption:
        previous = node.prev
        while previous is not None and previous.tag == "-text" and not (previous.text(deep=False) or "").strip():
            previous = previous.prev
        if previous is not None and previous.tag in _CAPTION_TAGS and is_caption(previous.text(strip=True)):
            caption = previous.text(strip=True)
    return table_text(grid, caption)


def _inside(node, tags: frozenset[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False
