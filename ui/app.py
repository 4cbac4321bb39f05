"""The Gradio chat UI: ask in chat, read the cited passages beside it, manage the documents.

What is shared between browser sessions is read-only: a ``Backend`` (settings, the uploads
folder, and an embedder when a test injects one). Everything a user does lives in that
user's session: the chat and its history in the Chatbot value and a ``gr.State``, the
settings in the session's own components. Models and the open index are loaded once per
process by ``rag.app.runtime`` and ``rag.generation`` and shared, read-only.

Handlers are plain functions of (backend, inputs) so tests can call them without a browser.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

import gradio as gr

from rag.app.config import Settings
from rag.ingest.files import SUPPORTED_SUFFIXES
from rag.errors import YuanwenError
from rag.app.conversations import ConversationStore
from rag.app.knowledge_bases import DEFAULT_KB, create_kb, data_dir, get_kb, list_kbs
from rag.app.runtime import Waiting, answer_in_turn, ask_in_turn
from rag.retrieve.retrieval import MODES, Retriever
from rag.schema import Answer
from rag.store.docstore import document_labels
from ui import render, sidebar
from ui.examples import example_questions
from ui.uploads import store_upload, uploads_dir_for

log = logging.getLogger("yuanwen.ui")
CSS_PATH = Path(__file__).with_name("style.css")
MAX_K = 20
# Chats handled at once by one server; beyond them a chat waits in Gradio's queue (its place shown on the page).
# Enough for extractive answers to go on while chats that need the one chat model wait for it.
CHAT_WORKERS = 8


@dataclass(frozen=True)
class Backend:
    """What every session reads and none changes."""

    settings: Settings
    uploads_dir: Path
    embedder: object | None = field(default=None, compare=False)  # tests: a fake; else the index's own
    kb: str = DEFAULT_KB
    base: Settings | None = None  # the server's settings, from which every knowledge base is found

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder=None, uploads_dir: str | Path | None = None) -> "Backend":
        folder = Path(uploads_dir) if uploads_dir else uploads_dir_for(settings.index)
        return cls(settings=settings, uploads_dir=folder.absolute(), embedder=embedder, base=settings)

    @cached_property
    def conversations(self) -> ConversationStore:
        """The saved conversations of every knowledge base (in the data folder, opened on first use)."""
        return ConversationStore.for_data_dir(data_dir(self.base or self.settings))

    def kb_names(self) -> list[str]:
        return [kb.name for kb in list_kbs(self.base or self.settings)]

    def for_kb(self, name: str | None) -> "Backend":
        """The backend of knowledge base ``name`` (its index, uploads folder and pinned settings)."""
        base = self.base or self.settings
        kb = get_kb(base, name)
        if kb.name == self.kb:
            return self
        if kb.name == DEFAULT_KB:
            other = Backend.from_settings(base, embedder=self.embedder)
        else:
            other = Backend(settings=kb.apply(base), uploads_dir=kb.uploads_dir.absolute(), embedder=self.embedder,
                            kb=kb.name, base=base)
        if "conversations" in self.__dict__:  # share the opened store
            other.__dict__["conversations"] = self.conversations
        return other

    def require_documents(self):
        """The index, or the error a user can act on when this knowledge base is still empty."""
        idx = self.index()
        if idx is None or len(idx) == 0:
            where = "" if self.kb == DEFAULT_KB else f" in knowledge base {self.kb!r}"
            raise YuanwenError(f"no documents are indexed yet{where}", "upload some in the Documents tab, or run "
                               f"yuanwen index FOLDER{'' if self.kb == DEFAULT_KB else ' --kb ' + self.kb}")
        return idx

    def index(self):
        """The live index, or None when nothing has been indexed yet."""
        from rag.app.builder import open_index
        from rag.store.index import index_exists

        if not index_exists(Path(self.settings.index)):
            return None
        return open_index(self.settings)

    def documents(self) -> list:
        idx = self.index()
        return idx.documents() if idx is not None else []

    def retriever(self, mode: str) -> Retriever:
        """The configured retriever (with its reranker) in the session's retrieval ``mode``."""
        from rag.app.builder import make_retriever

        return make_retriever(self.settings.with_overrides(retriever=mode or None), embedder=self.embedder)

    def generator(self, choice: str, model: str = ""):
        """The generator for a menu choice ("extractive", "auto" or "engine:model"); None → extractive."""
        from rag.app.builder import make_generator

        return make_generator(self.settings, choice or "extractive", model)

    def warm_up(self) -> None:
        """Load the index, embedder and default generator once, so the first question is quick."""
        try:
            if self.index() is not None:
                self.retriever(self.settings.retriever).search("预热", k=1)
            from rag.answer.question import analyse_question

            analyse_question("预热")  # loads the Cilin synonym sets every Chinese question's terms are looked up in
            gen = self.generator(self.settings.generator or "auto", self.settings.model)
            if gen is not None and hasattr(gen, "warm_up"):
                gen.warm_up()
        except Exception as exc:  # a broken model shows up again, with its fix, on the first question
            logging.getLogger(__name__).warning("warm-up failed: %s", exc)

    def pipeline(self, k: int, mode: str, choice: str, model: str = ""):
        from rag.app.builder import make_pipeline

        return make_pipeline(self.settings, retriever=self.retriever(mode), choice=choice or "extractive",
                             model=model, k=int(k))

    def ingest(self, files: list[tuple[str, str]], progress=None):
        """Store uploaded (temp path, original name) pairs and index them; returns (stored names, IndexReport)."""
        from rag.app.builder import index_files

        stored = [store_upload(path, name, self.uploads_dir) for path, name in files]
        report = index_files(self.settings, stored, embedder=self.embedder, progress=progress)
        return [p.name for p in stored], report

    def remove(self, name: str) -> int:
        """Drop a document (by key, or by a source name only one document has) from the index; an uploaded
        copy is deleted too, so it does not come back."""
        from rag.app.builder import remove_documents

        listed = self.documents()
        docs = [d for d in listed if d.key == name] or [d for d in listed if d.source == name]
        n = remove_documents(self.settings, [name])  # an ambiguous source name is an error naming the paths
        for d in docs:
            path = Path(d.key)
            if path.parent == self.uploads_dir.resolve() and path.is_file() and not path.is_symlink():
                path.unlink()
        return n


# -- handlers ------------------------------------------------------------------------------
def friendly_error(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for any exception: domain errors as they are, the rest without a traceback."""
    if isinstance(exc, YuanwenError):
        return exc.message, exc.hint
    log.exception("unexpected error in the UI")
    return f"something went wrong ({type(exc).__name__}: {exc})", "try again; if it persists, see the server log"


def progress_unit(stage: str) -> str:
    """What an indexing stage counts: OCR counts pages, reading counts files, embedding counts passages."""
    return "pages" if stage.startswith("OCR") else "files" if stage == "reading files" else "passages"


def respond(backend: Backend, question: str, chat: list, turns: list, k: int, mode: str, choice: str, model: str,
            on_answer=None):
    """Stream one chat turn. Yields (chat, turns, sources, query info, debug, question box).

    ``chat`` is what the Chatbot shows; ``turns`` the clean question/answer history the
    pipeline reads for follow-ups (no links or footers), kept per session in a gr.State.
    ``on_answer(answer, chat_index)`` is called with the final answer before the last yield.
    """
    question = (question or "").strip()
    chat = list(chat or [])
    turns = list(turns or [])
    if not question:
        yield chat, turns, gr.skip(), gr.skip(), gr.skip(), ""
        return
    chat = chat + [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    yield chat, turns, gr.skip(), gr.skip(), gr.skip(), ""
    answer: Answer | None = None
    try:
        backend.require_documents()
        pipe = backend.pipeline(k, mode, choice, model)
        streamed = ""
        for piece in ask_in_turn(pipe, question, turns):
            if isinstance(piece, Answer):
                answer = piece
            elif isinstance(piece, Waiting):  # another chat has the model: show this one's place in the line
                chat[-1] = {"role": "assistant", "content": render.waiting_markdown(piece.ahead)}
                yield chat, turns, gr.skip(), gr.skip(), gr.skip(), ""
            else:
                streamed += piece
                chat[-1] = {"role": "assistant", "content": render.esc(streamed)}
                yield chat, turns, gr.skip(), gr.skip(), gr.skip(), ""
    except Exception as exc:  # every failure becomes a chat message, never a traceback
        chat[-1] = {"role": "assistant", "content": render.error_markdown(*friendly_error(exc))}
        yield chat, turns, gr.skip(), gr.skip(), gr.skip(), ""
        return
    chat[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
    turns = turns + [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
    if on_answer is not None:
        on_answer(answer, len(chat) - 1)
    yield (chat, turns, render.sources_html(answer, _page_images(backend, answer)), render.query_html(answer),
           render.debug_html(answer), "")


def _page_images(backend: Backend, answer: Answer) -> dict[int, str]:
    """The cited PDF pages as images (ui/pageview.py); an index that cannot be read just gives none."""
    if not any(c.page for c in answer.citations):
        return {}
    from ui.pageview import page_images

    try:
        index = backend.index()
        paths = {d.source: d.key for d in index.documents()} if index is not None else {}
    except Exception:
        return {}
    return page_images(answer, paths.get)


def new_chat():
    return [], [], render.sources_html(None), "", render.debug_html(None)


def corpus_view(backend: Backend):
    """(empty-state visibility, example samples, documents table, removable sources) for the current index."""
    try:
        docs = backend.documents()
    except YuanwenError as exc:
        return (gr.update(visible=True, value=render.EMPTY_STATE_HTML.replace(
                    "No documents are indexed yet.", render.esc(exc.message))),
                gr.Dataset(samples=[]), render.documents_html([]), gr.Dropdown(choices=[], value=None))
    labels = document_labels(docs)
    return (gr.update(visible=not docs, value=render.EMPTY_STATE_HTML),
            gr.Dataset(samples=[[q] for q in example_questions(docs)]),
            render.documents_html(docs),
            gr.Dropdown(choices=[(labels[d.key], d.key) for d in docs], value=None))


def upload(backend: Backend, files, progress=gr.Progress()) -> str:
    """Store and index uploaded files; returns a status line (markdown)."""
    if not files:
        return "Choose one or more files first."
    pairs = []
    for f in files:
        path = getattr(f, "name", None) or str(f)
        original = getattr(f, "orig_name", None) or Path(path).name
        pairs.append((path, original))

    def on_progress(stage: str, done: int, total: int) -> None:
        progress((done, total) if total else None, desc=stage, unit=progress_unit(stage))

    try:
        names, report = backend.ingest(pairs, progress=on_progress)
    except Exception as exc:
        message, hint = friendly_error(exc)
        return render.error_markdown(message, hint)
    skipped = "".join(f"\n- skipped {render.esc(f)}: {render.esc(r)}" for f, r in report.skipped)
    return (f"Indexed {', '.join(render.esc(n) for n in names)}: {report.added} new passages, "
            f"{report.embedded} embedded, {report.documents} documents in the index "
            f"({report.seconds:.1f} s).{skipped}")


def remove(backend: Backend, name: str | None) -> str:
    """Remove the document chosen in the menu (its key); returns a status line (markdown)."""
    if not name:
        return "Choose a document to remove."
    try:
        label = document_labels(backend.documents()).get(name, name)
        backend.remove(name)
    except Exception as exc:
        return render.error_markdown(*friendly_error(exc))
    return f"Removed {render.esc(label)}."


def reindex_paths(docs) -> list[Path]:
    """What to read again so every document keeps its source name: a document indexed from inside a folder
    ("sub/c.md") is re-read through that folder (as ``yuanwen index FOLDER`` does: new files there are added,
    deleted ones dropped); any other document through its own file, while it exists."""
    folders = {Path(d.root) for d in docs if "/" in d.source and Path(d.root).is_dir()}
    files = [Path(d.key) for d in docs
             if Path(d.key).is_file() and not any(f in Path(d.key).parents for f in folders)]
    return sorted(folders) + files


def reindex(backend: Backend, progress=gr.Progress()) -> str:
    """Read every indexed document again from its file (changed paragraphs are re-embedded)."""
    from rag.app.builder import index_files

    paths = reindex_paths(backend.documents())
    if not paths:
        return "Nothing to re-index: upload documents first."

    def on_progress(stage: str, done: int, total: int) -> None:
        progress((done, total) if total else None, desc=stage, unit=progress_unit(stage))

    try:
        report = index_files(backend.settings, paths, embedder=backend.embedder, progress=on_progress)
    except Exception as exc:
        return render.error_markdown(*friendly_error(exc))
    return (f"Re-indexed {report.documents} documents: {report.embedded} passages embedded again "
            f"({report.seconds:.1f} s).")


def chat_turn(backend: Backend, question: str, chat: list, turns: list, state: dict, kb: str, k: int, mode: str,
              choice: str, model: str, request: gr.Request):
    """``respond`` in knowledge base ``kb``, saving the final answer as a turn of the session's
    conversation. Yields respond's outputs, then (state, sidebar, copy text)."""
    try:
        b = backend.for_kb(kb)
    except Exception as exc:
        chat = list(chat or []) + [{"role": "user", "content": question},
                                   {"role": "assistant", "content": render.error_markdown(*friendly_error(exc))}]
        yield chat, turns, gr.skip(), gr.skip(), gr.skip(), "", gr.skip(), gr.skip(), gr.skip()
        return
    final: dict = {}
    for out in respond(b, question, chat, turns, k, mode, choice, model,
                       on_answer=lambda answer, index: final.update(answer=answer, index=index)):
        if "answer" not in final:
            yield (*out, gr.skip(), gr.skip(), gr.skip())
            continue
        answer = final["answer"]
        try:
            state = sidebar.save_answer(backend, b.kb, state or sidebar.empty_state(), answer, final["index"], request)
            listing = sidebar.sidebar(backend, b.kb, request, state["id"])
        except Exception as exc:  # the answer is shown even when it could not be saved
            log.exception("saving the conversation failed")
            out[0][-1]["content"] += "\n\n" + render.error_markdown(*friendly_error(exc))
            listing = gr.skip()
        yield (*out, state, listing, render.text_with_sources(answer))


def start_chat():
    """A new, unsaved conversation: (chat, history, sources, query info, debug, state, copy text)."""
    return (*new_chat(), sidebar.empty_state(), "")


def switch_kb(backend: Backend, kb: str, request: gr.Request):
    """Another knowledge base: its documents and examples, its conversations, and a new chat."""
    try:
        b = backend.for_kb(kb)
    except Exception as exc:
        message, hint = friendly_error(exc)
        return (gr.skip(),) * 4 + (gr.skip(), render.error_markdown(message, hint))
    return (*corpus_view(b), sidebar.sidebar(backend, b.kb, request), "")


def new_kb(backend: Backend, name: str):
    """Create a knowledge base from the Documents tab: (status, picker, name box)."""
    try:
        kb = create_kb(backend.base or backend.settings, name)
    except Exception as exc:  # stops the chain that would switch to it
        raise _api_error(exc) from None
    return (f"Created knowledge base {render.esc(kb.name)}: upload documents into it below.",
            gr.Dropdown(choices=backend.kb_names(), value=kb.name), "")


def generator_choices(settings: Settings) -> tuple[list[tuple[str, str]], str]:
    """(label, value) pairs for the generator menu and the value selected by the settings."""
    choices = [("Extractive: quote the passages (no model)", "extractive"),
               ("Auto: the best installed offline model, else extractive", "auto")]
    try:
        from rag.generation import available_generators

        for opt in available_generators():
            note = f" — {opt.note}" if opt.note else ""
            choices.append((opt.label + note, f"{opt.engine}:{opt.model or ''}"))
    except Exception:  # a broken engine must not take the page down
        log.exception("listing generators failed")
    wanted = settings.generator or "auto"
    values = [v for _, v in choices]
    if wanted not in values:
        wanted = next((v for v in values if v.startswith(wanted + ":")), "auto")
    return choices, wanted


# -- API (gr.api: typed functions, also reachable with gradio_client or curl) ---------------------
def _api_error(exc: BaseException) -> gr.Error:
    message, hint = friendly_error(exc)
    return gr.Error(message + (f" — {hint}" if hint else ""))


def api_ask(backend: Backend, question: str, k: int = 5, retriever: str = "hybrid", generator: str = "",
            model: str = "", kb: str = "") -> dict:
    try:
        backend = backend.for_kb(kb or DEFAULT_KB)
        pipe = backend.pipeline(k, retriever, generator or backend.settings.generator, model)
        # Through json as the CLI does: details hold int-keyed maps that Gradio's encoder refuses.
        return json.loads(json.dumps(answer_in_turn(pipe, question).to_json(), ensure_ascii=False, default=str))
    except Exception as exc:
        raise _api_error(exc) from None


def api_chat(backend: Backend, question: str, conversation_id: str = "", kb: str = "", k: int = 5,
             retriever: str = "hybrid", generator: str = "", model: str = "", request: gr.Request = None) -> dict:
    """Ask within a saved conversation of the caller (its earlier answers are the history)."""
    from rag.app.conversations import answer_record

    user = sidebar.user_of(request)
    try:
        history: list[dict] = []
        if conversation_id:
            saved = backend.conversations.get(user, conversation_id)
            kb, history = kb or saved.kb, saved.history()
        b = backend.for_kb(kb or DEFAULT_KB)
        b.require_documents()
        answer = answer_in_turn(b.pipeline(k, retriever, generator or b.settings.generator, model), question,
                                history or None)
        conversation_id, turn_id = backend.conversations.add_turn(user, conversation_id or None, b.kb, answer)
    except Exception as exc:
        raise _api_error(exc) from None
    record = answer_record(answer)
    record["citations"] = answer.citation_records()
    return json.loads(json.dumps({"conversation_id": conversation_id, "turn_id": turn_id, "kb": b.kb, **record},
                                 ensure_ascii=False, default=str))


def api_conversations(backend: Backend, kb: str = "", request: gr.Request = None) -> dict:
    return {"conversations": [c.to_json() for c in backend.conversations.list(sidebar.user_of(request), kb or None)]}


def api_conversation(backend: Backend, conversation_id: str, request: gr.Request = None) -> dict:
    try:
        conv = backend.conversations.get(sidebar.user_of(request), conversation_id)
    except Exception as exc:
        raise _api_error(exc) from None
    return json.loads(json.dumps(conv.to_json(with_turns=True), ensure_ascii=False, default=str))


def api_feedback(backend: Backend, turn_id: int, rating: str = "", comment: str = "",
                 request: gr.Request = None) -> dict:
    try:
        backend.conversations.rate(sidebar.user_of(request), int(turn_id), rating or None, comment)
    except Exception as exc:
        raise _api_error(exc) from None
    return {"turn_id": int(turn_id), "rating": rating or None, "comment": comment}


def api_search(backend: Backend, question: str, k: int = 5, retriever: str = "hybrid", kb: str = "") -> dict:
    try:
        passages = backend.for_kb(kb or DEFAULT_KB).retriever(retriever).search(question, k=int(k))
    except Exception as exc:
        raise _api_error(exc) from None
    return {"query": question, "passages": [p.to_json() for p in passages]}


def _typed(fn, backend: Backend, defaults: dict | None = None):
    """``fn`` with ``backend`` bound and a real signature with resolved type hints (gr.api reads them;
    Gradio passes ``gr.Request``/``gr.LikeData`` only to parameters hinted so, which a partial hides)."""
    import inspect
    import typing

    defaults = defaults or {}

    if inspect.isgeneratorfunction(fn):  # Gradio streams only from what it sees is a generator
        def bound(*args, **kwargs):
            yield from fn(backend, *args, **kwargs)
    else:
        def bound(*args, **kwargs):
            return fn(backend, *args, **kwargs)

    sig = inspect.signature(fn)
    params = [p.replace(default=defaults.get(p.name, p.default)) for p in list(sig.parameters.values())[1:]]
    bound.__signature__ = sig.replace(parameters=params)
    bound.__annotations__ = {k: v for k, v in typing.get_type_hints(fn).items() if k != "backend"}
    bound.__name__ = fn.__name__
    bound.__doc__ = fn.__doc__
    return bound


# -- page ------------------------------------------------------------------------------------
def build_app(backend: Backend, kb: str | None = None) -> gr.Blocks:
    """The page; ``kb`` is the knowledge base the picker starts on (``yuanwen serve --kb``)."""
    s = backend.settings
    gen_choices, gen_value = generator_choices(s)
    upload_types = sorted(SUPPORTED_SUFFIXES)
    kb_names = backend.kb_names()
    start_kb = kb if kb in kb_names else DEFAULT_KB
    with gr.Blocks(title="原文 yuanwen") as demo:
        with gr.Row(elem_id="yw-top", equal_height=True):
            gr.HTML('<div class="yw-header"><span class="yw-logo">原文</span> <b>yuanwen</b> '
                    '<span class="yw-muted">— ask your documents; every answer cites its source</span></div>')
            kb_pick = gr.Dropdown(kb_names, value=start_kb, label="Knowledge base", elem_id="yw-kb", scale=0,
                                  min_width=200, allow_custom_value=False)
        turns = gr.State([])
        conv = gr.State(sidebar.empty_state())
        kb_memory = gr.BrowserState(start_kb, storage_key="yuanwen-kb")  # the picker survives a reload
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                empty = gr.HTML(render.EMPTY_STATE_HTML, visible=False, elem_id="yw-empty")
                with gr.Row(equal_height=False, elem_id="yw-main"):
                    with gr.Column(scale=1, min_width=200, elem_id="yw-history"):
                        clear = gr.Button("＋ New chat", size="sm", variant="secondary", elem_id="yw-new-chat")
                        conversations = gr.Radio([], label="Conversations", elem_id="yw-conversations",
                                                 elem_classes=["yw-conv-list"])
                        with gr.Accordion("This conversation", open=False, elem_id="yw-conv-tools"):
                            title = gr.Textbox(show_label=False, placeholder="New title", elem_id="yw-title")
                            with gr.Row():
                                rename_btn = gr.Button("Rename", size="sm", elem_id="yw-rename")
                                delete_btn = gr.Button("Delete", size="sm", variant="stop", elem_id="yw-delete")
                            export_btn = gr.Button("Export Markdown", size="sm", elem_id="yw-export")
                            export_file = gr.File(label="Markdown", visible=False, interactive=False,
                                                  elem_id="yw-export-file")
                        conv_status = gr.Markdown(elem_id="yw-conv-status")
                    with gr.Column(scale=3, min_width=300):
                        chat = gr.Chatbot(label="Chat", height=480, elem_id="yw-chat",
                                          feedback_options=("Like", "Dislike"), buttons=["copy"],
                                          placeholder="Ask a question about the indexed documents.")
                        with gr.Row(elem_id="yw-ask-row"):
                            question = gr.Textbox(show_label=False, placeholder="问一个问题… / Ask a question",
                                                  scale=5, min_width=180, elem_id="yw-question", autofocus=True)
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="yw-ask")
                        with gr.Row(elem_id="yw-answer-tools"):
                            copy_btn = gr.Button("Copy answer with citations", size="sm", elem_id="yw-copy")
                            feedback_text = gr.Textbox(show_label=False, scale=3, min_width=160,
                                                       placeholder="Comment on the rated answer (optional)",
                                                       elem_id="yw-feedback-comment")
                            feedback_btn = gr.Button("Send comment", size="sm", elem_id="yw-feedback-send")
                        copy_text = gr.Textbox(visible=False, elem_id="yw-copy-text")
                        examples = gr.Dataset(components=[question], samples=[], label="Try asking",
                                              elem_id="yw-examples", layout="gallery")
                    with gr.Column(scale=2, min_width=280, elem_id="yw-side"):
                        gr.HTML('<div class="yw-panel-title">Sources</div>')
                        sources = gr.HTML(render.sources_html(None), elem_id="yw-sources")
                        query_info = gr.HTML("", elem_id="yw-query-info")
                        with gr.Accordion("Debug: the exact prompt and details", open=False):
                            debug = gr.HTML(render.debug_html(None), elem_id="yw-debug")
            with gr.Tab("Documents", id="documents"):
                gr.Markdown("Documents of the knowledge base chosen at the top.")
                files = gr.File(label=f"Upload documents ({' '.join(upload_types)})", file_count="multiple",
                                file_types=upload_types, elem_id="yw-upload")
                with gr.Row():
                    add = gr.Button("Add to index", variant="primary", elem_id="yw-add")
                    reindex_btn = gr.Button("Re-index", elem_id="yw-reindex")
                status = gr.Markdown(elem_id="yw-status")
                docs_table = gr.HTML(elem_id="yw-docs")
                with gr.Row():
                    to_remove = gr.Dropdown(label="Remove a document", choices=[], scale=3, elem_id="yw-remove-choice")
                    remove_btn = gr.Button("Remove", variant="stop", scale=1, elem_id="yw-remove")
                with gr.Row(elem_id="yw-new-kb-row"):
                    kb_name = gr.Textbox(label="New knowledge base", placeholder="name, e.g. 政策文件", scale=3,
                                         elem_id="yw-new-kb")
                    kb_create = gr.Button("Create", scale=1, elem_id="yw-create-kb")
            with gr.Tab("Settings", id="settings"):
                k = gr.Slider(1, MAX_K, value=s.k, step=1, label="Passages retrieved (top-k)", elem_id="yw-k")
                mode = gr.Radio(list(MODES), value=s.retriever, label="Retrieval",
                                info="hybrid fuses dense vectors and BM25 keywords", elem_id="yw-mode")
                choice = gr.Dropdown(gen_choices, value=gen_value, label="Generator", elem_id="yw-generator")
                model = gr.Textbox(value=s.model, label="Model (GGUF path, model folder, or the server's model name)",
                                   placeholder="empty: the generator's default", elem_id="yw-model")
                gr.Markdown("Settings apply to this browser session only. A model loads once per server "
                            "process, on the first question that needs it.")

        private = dict(api_visibility="private")
        corpus_outputs = [empty, examples, docs_table, to_remove]
        chat_outputs = [chat, turns, sources, query_info, debug, conv, copy_text]

        def refresh(kb_value: str):
            return corpus_view(backend.for_kb(kb_value))

        # One line for every way of asking (Enter, the button, an example): CHAT_WORKERS chats run at once, the
        # rest wait in Gradio's queue, which shows each its place; a running chat that needs the model busy with
        # another shows its place at the model in its bubble (rag.app.runtime.ask_in_turn).
        chat_io = dict(inputs=[question, chat, turns, conv, kb_pick, k, mode, choice, model],
                       outputs=[chat, turns, sources, query_info, debug, question, conv, conversations, copy_text],
                       concurrency_id="chat", concurrency_limit=CHAT_WORKERS)
        ask_fn = _typed(chat_turn, backend)
        question.submit(ask_fn, **chat_io, **private)
        ask.click(ask_fn, **chat_io, **private)
        examples.click(lambda sample: sample[0], examples, question, **private).then(ask_fn, **chat_io, **private)
        clear.click(start_chat, None, chat_outputs, **private).then(
            lambda: gr.Radio(value=None), None, conversations, **private)
        chat.clear(start_chat, None, chat_outputs, **private)
        conversations.input(_typed(sidebar.open_conversation, backend), conversations,
                            [chat, turns, conv, sources, query_info, debug, copy_text, conv_status], **private)
        chat.select(_typed(sidebar.show_sources_of, backend), conv, [sources, query_info, copy_text], **private)
        chat.like(_typed(sidebar.rate, backend), conv, [conv_status, conv], **private)
        feedback_btn.click(_typed(sidebar.comment, backend), [conv, feedback_text], [conv_status, feedback_text],
                           **private)
        rename_btn.click(_typed(sidebar.rename, backend), [conv, title, kb_pick], [conv_status, conversations, title],
                         **private)
        delete_btn.click(_typed(sidebar.delete, backend), [conv, kb_pick], [conv_status, conversations, conv],
                         **private).then(lambda: new_chat() + ("",), None,
                                         [chat, turns, sources, query_info, debug, copy_text], **private)
        export_btn.click(_typed(sidebar.export_markdown, backend), conv, [export_file, conv_status], **private)
        copy_btn.click(None, copy_text, None, js="(text) => { if (text) navigator.clipboard.writeText(text); }",
                       **private)
        kb_outputs = [*corpus_outputs, conversations, status]
        switch_fn = _typed(switch_kb, backend)

        def remember(kb_value: str) -> str:
            return kb_value

        # .input, not .change: only a person's choice starts a new chat (restoring or creating sets it too).
        kb_pick.input(switch_fn, kb_pick, kb_outputs, **private).then(start_chat, None, chat_outputs, **private).then(
            remember, kb_pick, kb_memory, **private)
        kb_create.click(partial(new_kb, backend), kb_name, [status, kb_pick, kb_name], **private).success(
            switch_fn, kb_pick, [*corpus_outputs, conversations, conv_status], **private).then(
            start_chat, None, chat_outputs, **private).then(remember, kb_pick, kb_memory, **private)

        def restore(remembered: str, request: gr.Request):
            names = backend.kb_names()
            kb_value = remembered if remembered in names else start_kb
            return (gr.Dropdown(choices=names, value=kb_value), *switch_kb(backend, kb_value, request))

        def upload_to(kb_value: str, picked, progress=gr.Progress()):
            return upload(backend.for_kb(kb_value), picked, progress)

        def reindex_kb(kb_value: str, progress=gr.Progress()):
            return reindex(backend.for_kb(kb_value), progress)

        add.click(upload_to, [kb_pick, files], status, **private).then(
            refresh, kb_pick, corpus_outputs, **private).then(lambda: None, None, files, **private)
        reindex_btn.click(reindex_kb, kb_pick, status, **private).then(refresh, kb_pick, corpus_outputs, **private)
        remove_btn.click(lambda kb_value, source: remove(backend.for_kb(kb_value), source), [kb_pick, to_remove],
                         status, **private).then(refresh, kb_pick, corpus_outputs, **private)
        demo.load(restore, kb_memory, [kb_pick, *kb_outputs], **private)

        gr.api(_typed(api_ask, backend, {"k": s.k, "retriever": s.retriever}), api_name="ask",
               api_description="Answer a question with verified citations (the CLI's `ask --json` shape).")
        gr.api(_typed(api_search, backend, {"k": s.k, "retriever": s.retriever}), api_name="search",
               api_description="The passages that best answer a question (the CLI's `search --json` shape).")
        gr.api(_typed(api_chat, backend, {"k": s.k, "retriever": s.retriever}), api_name="chat",
               api_description="Ask within a saved conversation (empty id: a new one); returns its id, the turn "
                               "id and the answer.")
        gr.api(_typed(api_conversations, backend), api_name="conversations",
               api_description="Your saved conversations, newest first.")
        gr.api(_typed(api_conversation, backend), api_name="conversation",
               api_description="One of your conversations with its answers, citations and feedback.")
        gr.api(_typed(api_feedback, backend), api_name="feedback",
               api_description="Rate one of your answers: up, down or empty (cleared), with an optional comment.")
    return demo


def theme() -> gr.themes.Base:
    """A theme with local fonts only (the server runs offline; no web-font requests)."""
    fonts = ["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"]
    return gr.themes.Soft(primary_hue="red", neutral_hue="stone", font=fonts,
                          font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"])


def parse_auth(auth: str | list[str] | None) -> list[tuple[str, str]] | None:
    """``USER:PASS`` (or several, one per ``--auth``) → Gradio's list of logins."""
    if not auth:
        return None
    logins = []
    for item in [auth] if isinstance(auth, str) else auth:
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            raise YuanwenError("--auth must be USER:PASS", "for example: --auth demo:s3cret (repeat for more users)")
        logins.append((user, password))
    return logins


def api_answer(backend: Backend, kb: str, question: str, history: list[dict]):
    """The OpenAI endpoint's pipeline run: knowledge base ``kb`` with the server's settings."""
    b = backend.for_kb(kb)
    b.require_documents()
    s = b.settings
    return ask_in_turn(b.pipeline(s.k, s.retriever, s.generator or "auto", s.model), question, history)


def launch(settings: Settings, *, host: str = "127.0.0.1", port: int = 7860, auth: str | list[str] | None = None,
           embedder=None, block: bool = True, api_key: str | None = None, kb: str | None = None):
    """Start the UI and the OpenAI-compatible API (``yuanwen serve``). With ``block=False`` returns the
    running Blocks (tests)."""
    from ui.openai_api import openai_router

    backend = Backend.from_settings(settings, embedder=embedder)
    logins = parse_auth(auth)
    demo = build_app(backend, kb)
    demo.queue(default_concurrency_limit=1)
    app, _, _ = demo.launch(server_name=host, server_port=port, auth=logins, theme=theme(),
                            css=CSS_PATH.read_text(encoding="utf-8"), prevent_thread_lock=True, show_error=False,
                            footer_links=["api"], quiet=not block)
    app.add_api_route("/health", partial(health, backend), methods=["GET"])
    app.include_router(openai_router(backend.kb_names, partial(api_answer, backend), api_key=api_key or None,
                                     login_required=bool(logins)))
    if block:
        threading.Thread(target=backend.warm_up, name="warm-up", daemon=True).start()
        demo.block_thread()
    return demo


def health(backend: Backend) -> dict:
    """``GET /health``: is the server up, and what does it serve (no document content, so no login needed)."""
    try:
        idx = backend.index()
    except YuanwenError as exc:
        return {"status": "error", "error": exc.message, "hint": exc.hint}
    if idx is None:
        return {"status": "ok", "documents": 0, "chunks": 0, "embedder": None}
    return {"status": "ok", "documents": idx.manifest.n_documents, "chunks": len(idx),
            "embedder": idx.manifest.embedder}
