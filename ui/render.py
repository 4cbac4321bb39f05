"""HTML for the chat page, built from the pipeline's records.

Everything that came from a document or a file name passes through ``html.escape`` here,
in one place, so a document holding ``<script>`` or ``<img onerror=…>`` is shown as text.
"""

from __future__ import annotations

import html
import json
import re

from rag.answer.citations import MARKER
from rag.answer.refusal import describe_refusal
from rag.schema import Answer, Passage
from rag.store.docstore import document_labels

CLOSEST_PASSAGES = 3  # shown with a refusal
SNIPPET_CHARS = 160  # of the passages retrieved but not cited


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def source_anchor(n: int) -> str:
    """The element id of source card ``n`` (the answer's ``[n]`` links to it)."""
    return f"yw-src-{n}"


def highlighted(passage_text: str, start: int, end: int) -> str:
    """The passage with ``passage_text[start:end]`` in ``<mark>``; offsets outside the text are clipped."""
    start = max(0, min(start, len(passage_text)))
    end = max(start, min(end, len(passage_text)))
    if start == end:
        return esc(passage_text)
    return f"{esc(passage_text[:start])}<mark>{esc(passage_text[start:end])}</mark>{esc(passage_text[end:])}"


def where_html(chunk) -> str:
    """" · p. 12" (or "sheet 收入", "slide 3") and an "OCR" badge: where in the file a passage is, how it was read."""
    out = f' · <span class="yw-loc">{esc(chunk.location)}</span>' if chunk.location and chunk.location != "OCR" else ""
    if chunk.ocr:
        out += (' <span class="yw-badge yw-ocr" title="read from a page image by OCR: check the original for '
                'misread characters">OCR</span>')
    return out


def _page_image_html(citation, data_uri: str | None) -> str:
    if not data_uri or not data_uri.startswith("data:image/png;base64,"):
        return ""
    label = esc(f"{citation.source} {citation.location}".strip())
    return (f'<details class="yw-page"><summary>Show the page ({esc(citation.location)})</summary>'
            f'<img class="yw-page-img" src="{esc(data_uri)}" alt="{label}, cited words boxed" loading="lazy"></details>')


def _card(n: int | None, passage: Passage | None, body_html: str, *, source: str = "", extra_class: str = "",
          below: str = "") -> str:
    if passage is not None:
        c = passage.chunk
        head = (f'<span class="yw-file" title="{esc(c.doc_key or c.source)}">{esc(c.source)}</span>' + where_html(c)
                + (f' · <span class="yw-title">{esc(c.title)}</span>' if c.title else "")
                + f' · <span class="yw-pos">¶{c.paragraph + 1}, chars {c.start}–{c.end}</span>')
    else:
        head = f'<span class="yw-file">{esc(source)}</span>'
    label = f'<span class="yw-n">[{n}]</span> ' if n is not None else ""
    ident = f' id="{source_anchor(n)}"' if n is not None else ""
    return (f'<div class="yw-src {extra_class}"{ident}><div class="yw-src-head">{label}{head}</div>'
            f'<div class="yw-src-text">{body_html}</div>{below}</div>')


def sources_html(answer: Answer | None, page_images: dict[int, str] | None = None) -> str:
    """The Sources panel: one card per citation with its supporting span marked; for a refusal, the closest passages.

    ``page_images`` ({citation number: data-URI PNG}, see ``ui/pageview.py``) adds the original PDF page, with the
    cited words boxed, under its card."""
    page_images = page_images or {}
    if answer is None:
        return '<div class="yw-sources yw-muted">Sources of the answer appear here.</div>'
    parts: list[str] = []
    if answer.refused:
        reason = refusal_reason(answer)
        parts.append(f'<div class="yw-refusal-note">No passage supports an answer{": " + esc(reason) if reason else ""}.'
                     ' The closest passages:</div>')
        shown = set()
        # A refusal that says what the documents state of another subject cites it as that: marked.
        for cit in answer.citations:
            p = answer.cited_passage(cit)
            if p is not None:
                shown.add(id(p))
                parts.append(_card(cit.n, p, highlighted(p.text, cit.start - p.chunk.start, cit.end - p.chunk.start),
                                   extra_class="yw-closest yw-other-subject"))
        for p in [p for p in answer.passages if id(p) not in shown][: max(0, CLOSEST_PASSAGES - len(shown))]:
            parts.append(_card(None, p, esc(p.text), extra_class="yw-closest"))
        if not answer.passages:
            parts.append('<div class="yw-muted">Nothing was retrieved (is anything indexed?).</div>')
        return f'<div class="yw-sources">{"".join(parts)}</div>'

    cited = set()
    for cit in answer.citations:
        p = answer.cited_passage(cit)
        if p is None:  # the span is not inside a retrieved passage: show the span itself
            parts.append(_card(cit.n, None, f"<mark>{esc(cit.text)}</mark>", source=cit.source,
                               below=_page_image_html(cit, page_images.get(cit.n))))
            continue
        cited.add(id(p))
        parts.append(_card(cit.n, p, highlighted(p.text, cit.start - p.chunk.start, cit.end - p.chunk.start),
                           below=_page_image_html(cit, page_images.get(cit.n))))
    others = [p for p in answer.passages if id(p) not in cited]
    if others:
        rows = "".join(
            f'<li><span class="yw-file">{esc(p.source)}</span>{where_html(p.chunk)} · ¶{p.chunk.paragraph + 1}: '
            f'{esc(p.text[:SNIPPET_CHARS])}{"…" if len(p.text) > SNIPPET_CHARS else ""}</li>'
            for p in others)
        parts.append(f'<details class="yw-others"><summary>Other retrieved passages ({len(others)})</summary>'
                     f"<ol>{rows}</ol></details>")
    return f'<div class="yw-sources">{"".join(parts)}</div>'


def query_html(answer: Answer | None) -> str:
    """The standalone query retrieval used (when a follow-up was rewritten) and translated terms, if any."""
    if answer is None:
        return ""
    lines = []
    if answer.query and answer.query != answer.question:
        lines.append(f'Searched for: <span class="yw-query">{esc(answer.query)}</span>')
    terms = answer.details.get("translated_terms")
    if terms:
        lines.append("Query terms: " + "、".join(f"<code>{esc(t)}</code>" for t in terms))
    by = esc(answered_by(answer))
    lines.append(f'Answered by <span class="yw-by">{by}</span>')
    return '<div class="yw-query-info">' + "<br>".join(lines) + "</div>"


def debug_html(answer: Answer | None) -> str:
    """The exact prompt sent to the model and the pipeline's details, for the debug accordion."""
    if answer is None:
        return '<div class="yw-muted">Ask a question to see the prompt.</div>'
    parts = []
    if answer.prompt:
        for m in answer.prompt:
            parts.append(f'<div class="yw-role">{esc(m.get("role", ""))}</div><pre class="yw-pre">{esc(m.get("content", ""))}</pre>')
    else:
        parts.append('<div class="yw-muted">No prompt: the extractive answerer quotes the passages without a model.</div>')
    details = json.dumps(answer.details, ensure_ascii=False, indent=2, default=str)
    parts.append(f'<div class="yw-role">details</div><pre class="yw-pre">{esc(details)}</pre>')
    return "".join(parts)


def answer_markdown(answer: Answer) -> str:
    """The verified answer for the chat: escaped text, ``[n]`` linked to its source card, the generator named."""
    text = esc(answer.answer)

    def link(m: re.Match) -> str:
        nums = re.findall(r"\d+", m.group(1))
        return " " + "".join(f"[\\[{n}\\]](#{source_anchor(int(n))})" for n in nums)

    text = MARKER.sub(link, text) if not answer.refused or answer.citations else text
    by = answered_by(answer)
    note = f"refused: {refusal_reason(answer) or 'not enough evidence'}" if answer.refused else f"{len(answer.citations)} source(s)"
    searched = (f"\n\n*Searched for: {esc(answer.query)}*" if answer.query and answer.query != answer.question
                else "")
    return f"{text}{searched}\n\n*— {esc(by)} · {note}*"


# Separates an answer from its Sources block in plain text (the OpenAI API's ``content``, the copy
# button); the API cuts it off again when a client sends the answer back as history.
SOURCES_SEPARATOR = "\n\n---\nSources:"


def text_with_sources(answer: Answer) -> str:
    """Plain text to paste or send elsewhere: the answer with its [n] markers, then one line per
    citation: ``[n] source · title: “quoted span”``."""
    records = answer.citation_records()
    if not records:
        return answer.answer
    lines = [f"[{r['n']}] {r['source']}" + (f" · {r['title']}" if r["title"] else "") + f": “{r['text'].strip()}”"
             for r in records]
    return answer.answer + SOURCES_SEPARATOR + "\n" + "\n".join(lines)


def answered_by(answer: Answer) -> str:
    """"generator · model display name" (never the model's path in the server's cache)."""
    from rag.generation.offline_models import display_name

    return answer.generator + (f" · {display_name(answer.model)}" if answer.model else "")


def refusal_reason(answer: Answer) -> str:
    """The refusal's reason in words ("" when there is none)."""
    return describe_refusal(answer.details.get("refusal") or {})


def documents_html(documents: list) -> str:
    """The indexed documents with their chunk counts (``documents``: records with key, root, source, title, n_chunks)."""
    if not documents:
        return '<div class="yw-muted">No documents are indexed yet.</div>'
    labels = document_labels(documents)
    rows = "".join(
        f'<tr><td class="yw-file">{esc(labels[d.key])}</td><td>{esc(d.title)}</td><td class="yw-num">{d.n_chunks}</td></tr>'
        for d in documents)
    total = sum(d.n_chunks for d in documents)
    return (f'<table class="yw-docs"><thead><tr><th>File</th><th>Title</th><th>Chunks</th></tr></thead>'
            f'<tbody>{rows}</tbody></table><div class="yw-muted">{len(documents)} documents, {total} chunks</div>')


EMPTY_STATE_HTML = (
    '<div class="yw-empty"><b>No documents are indexed yet.</b><br>'
    "Open the <b>Documents</b> tab and upload .txt, .md or .html files, or run "
    "<code>yuanwen index FOLDER</code> and reload this page.</div>"
)


def error_markdown(message: str, hint: str = "") -> str:
    """A domain error as a chat message: what went wrong and what to do, never a traceback."""
    return f"⚠️ {esc(message)}" + (f"\n\n**Fix:** {esc(hint)}" if hint else "")


def waiting_markdown(ahead: int) -> str:
    """The chat bubble of a question waiting for the chat model: its place in the line (0: the wait is over)."""
    if ahead <= 0:
        return '<span class="yw-waiting">轮到你了，正在回答… · your turn: answering…</span>'
    questions = "question is" if ahead == 1 else "questions are"
    return (f'<span class="yw-waiting">排队等待模型：前面还有 {ahead} 个问题 · waiting for the model — '
            f"{ahead} {questions} ahead of yours</span>")
