"""The Gradio chat UI: ask in chat, read the cited passages beside it, manage the documents.

What is shared between browser sessions is read-only: a ``Backend`` (settings, the uploads
folder, and an embedder when a test injects one). Everything a user does lives in that
user's session: the chat and its history in the Chatbot value and a ``gr.State``, the
settings in the session's own components. Models and the open index are loaded once per
process by ``rag.runtime`` and ``rag.generation`` and shared, read-only.

Handlers are plain functions of (backend, inputs) so tests can call them without a browser.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import gradio as gr

from rag.config import Settings
from rag.documents import SUPPORTED_SUFFIXES
from rag.errors import YuanwenError
from rag.retrieval import MODES, Retriever
from rag.schema import Answer
from ui import render
from ui.examples import example_questions
from ui.uploads import store_upload, uploads_dir_for

log = logging.getLogger("yuanwen.ui")
CSS_PATH = Path(__file__).with_name("style.css")
MAX_K = 20


@dataclass(frozen=True)
class Backend:
    """What every session reads and none changes."""

    settings: Settings
    uploads_dir: Path
    embedder: object | None = field(default=None, compare=False)  # tests: a fake; else the index's own

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder=None, uploads_dir: str | Path | None = None) -> "Backend":
        folder = Path(uploads_dir) if uploads_dir else uploads_dir_for(settings.index)
        return cls(settings=settings, uploads_dir=folder.absolute(), embedder=embedder)

    def index(self):
        """The live index, or None when nothing has been indexed yet."""
        from rag.index import index_exists
        from rag.runtime import open_index

        if not index_exists(Path(self.settings.index)):
            return None
        return open_index(self.settings.index)

    def documents(self) -> list:
        idx = self.index()
        return idx.documents() if idx is not None else []

    def retriever(self, mode: str) -> Retriever:
        from rag.runtime import get_retriever, open_index

        if self.embedder is None:
            return get_retriever(self.settings.index, mode=mode)
        return Retriever(open_index(self.settings.index), self.embedder if mode != "bm25" else None, mode=mode)

    def generator(self, choice: str, model: str = ""):
        """The generator for a menu choice ("extractive", "auto" or "engine:model"); None → extractive."""
        from rag.generation import load_generator

        model = (model or "").strip()
        if choice in ("", "extractive", "none"):
            return None
        if choice == "auto":
            return load_generator("auto", model or self.settings.model or None)
        engine, _, default_model = choice.partition(":")
        opts = {"base_url": self.settings.openai_base_url} if engine == "openai" else {}
        return load_generator(engine, model or default_model or None, **opts)

    def warm_up(self) -> None:
        """Load the index, embedder and default generator once, so the first question is quick."""
        try:
            if self.index() is not None:
                self.retriever(self.settings.retriever).search("预热", k=1)
            gen = self.generator(self.settings.generator or "auto", self.settings.model)
            if gen is not None and hasattr(gen, "warm_up"):
                gen.warm_up()
        except Exception as exc:  # a broken model shows up again, with its fix, on the first question
            logging.getLogger(__name__).warning("warm-up failed: %s", exc)

    def pipeline(self, k: int, mode: str, choice: str, model: str = ""):
        from rag.pipeline import Pipeline

        return Pipeline(self.retriever(mode), self.generator(choice, model), k=int(k))

    def ingest(self, files: list[tuple[str, str]], progress=None):
        """Store uploaded (temp path, original name) pairs and index them; returns (stored names, IndexReport)."""
        from rag.indexing import update_index

        stored = [store_upload(path, name, self.uploads_dir) for path, name in files]
        report = update_index(stored, self.settings.index, embedder=self.embedder,
                              embedder_name=None if self.embedder is not None else (self.settings.embedder or None),
                              progress=progress)
        return [p.name for p in stored], report

    def remove(self, source: str) -> int:
        """Drop a document from the index; an uploaded copy is deleted too, so it does not come back."""
        from rag.indexing import remove_documents

        docs = [d for d in self.documents() if d.source == source]
        n = remove_documents([source], self.settings.index)
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


def respond(backend: Backend, question: str, chat: list, turns: list, k: int, mode: str, choice: str, model: str):
    """Stream one chat turn. Yields (chat, turns, sources, query info, debug, question box).

    ``chat`` is what the Chatbot shows; ``turns`` the clean question/answer history the
    pipeline reads for follow-ups (no links or footers), kept per session in a gr.State.
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
        idx = backend.index()
        if idx is None or len(idx) == 0:
            raise YuanwenError("no documents are indexed yet", "upload some in the Documents tab")
        pipe = backend.pipeline(k, mode, choice, model)
        streamed = ""
        for piece in pipe.ask_stream(question, history=turns):
            if isinstance(piece, Answer):
                answer = piece
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
    yield (chat, turns, render.sources_html(answer), render.query_html(answer), render.debug_html(answer), "")


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
    sources = [d.source for d in docs]
    return (gr.update(visible=not docs, value=render.EMPTY_STATE_HTML),
            gr.Dataset(samples=[[q] for q in example_questions(docs)]),
            render.documents_html(docs),
            gr.Dropdown(choices=sources, value=None))


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
        progress((done, total) if total else None, desc=stage, unit="passages")

    try:
        names, report = backend.ingest(pairs, progress=on_progress)
    except Exception as exc:
        message, hint = friendly_error(exc)
        return render.error_markdown(message, hint)
    skipped = "".join(f"\n- skipped {render.esc(f)}: {render.esc(r)}" for f, r in report.skipped)
    return (f"Indexed {', '.join(render.esc(n) for n in names)}: {report.added} new passages, "
            f"{report.embedded} embedded, {report.documents} documents in the index "
            f"({report.seconds:.1f} s).{skipped}")


def remove(backend: Backend, source: str | None) -> str:
    if not source:
        return "Choose a document to remove."
    try:
        backend.remove(source)
    except Exception as exc:
        return render.error_markdown(*friendly_error(exc))
    return f"Removed {render.esc(source)}."


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
            model: str = "") -> dict:
    try:
        pipe = backend.pipeline(k, retriever, generator or backend.settings.generator, model)
        # Through json as the CLI does: details hold int-keyed maps that Gradio's encoder refuses.
        return json.loads(json.dumps(pipe.ask(question).to_json(), ensure_ascii=False, default=str))
    except Exception as exc:
        raise _api_error(exc) from None


def api_search(backend: Backend, question: str, k: int = 5, retriever: str = "hybrid") -> dict:
    try:
        passages = backend.retriever(retriever).search(question, k=int(k))
    except Exception as exc:
        raise _api_error(exc) from None
    return {"query": question, "passages": [p.to_json() for p in passages]}


def _typed(fn, backend: Backend, defaults: dict):
    """``fn`` with ``backend`` bound and a real signature (gr.api reads the type hints)."""
    import inspect

    def bound(*args, **kwargs):
        return fn(backend, *args, **kwargs)

    sig = inspect.signature(fn)
    params = [p.replace(default=defaults.get(p.name, p.default)) for p in list(sig.parameters.values())[1:]]
    bound.__signature__ = sig.replace(parameters=params)
    bound.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "backend"}
    bound.__name__ = fn.__name__
    bound.__doc__ = fn.__doc__
    return bound


# -- page ------------------------------------------------------------------------------------
def build_app(backend: Backend) -> gr.Blocks:
    s = backend.settings
    gen_choices, gen_value = generator_choices(s)
    upload_types = sorted(SUPPORTED_SUFFIXES)
    with gr.Blocks(title="原文 yuanwen") as demo:
        gr.HTML('<div class="yw-header"><span class="yw-logo">原文</span> <b>yuanwen</b> '
                '<span class="yw-muted">— ask your documents; every answer cites its source</span></div>')
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                empty = gr.HTML(render.EMPTY_STATE_HTML, visible=False, elem_id="yw-empty")
                with gr.Row(equal_height=False, elem_id="yw-main"):
                    with gr.Column(scale=3, min_width=300):
                        chat = gr.Chatbot(label="Chat", height=480, elem_id="yw-chat", feedback_options=None,
                                          buttons=["copy"], placeholder="Ask a question about the indexed documents.")
                        with gr.Row(elem_id="yw-ask-row"):
                            question = gr.Textbox(show_label=False, placeholder="问一个问题… / Ask a question",
                                                  scale=5, min_width=180, elem_id="yw-question", autofocus=True)
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="yw-ask")
                        examples = gr.Dataset(components=[question], samples=[], label="Try asking",
                                              elem_id="yw-examples", layout="gallery")
                        clear = gr.Button("New chat", size="sm", variant="secondary", elem_id="yw-new-chat")
                    with gr.Column(scale=2, min_width=280, elem_id="yw-side"):
                        gr.HTML('<div class="yw-panel-title">Sources</div>')
                        sources = gr.HTML(render.sources_html(None), elem_id="yw-sources")
                        query_info = gr.HTML("", elem_id="yw-query-info")
                        with gr.Accordion("Debug: the exact prompt and details", open=False):
                            debug = gr.HTML(render.debug_html(None), elem_id="yw-debug")
            with gr.Tab("Documents", id="documents"):
                files = gr.File(label=f"Upload documents ({' '.join(upload_types)})", file_count="multiple",
                                file_types=upload_types, elem_id="yw-upload")
                add = gr.Button("Add to index", variant="primary", elem_id="yw-add")
                status = gr.Markdown(elem_id="yw-status")
                docs_table = gr.HTML(elem_id="yw-docs")
                with gr.Row():
                    to_remove = gr.Dropdown(label="Remove a document", choices=[], scale=3, elem_id="yw-remove-choice")
                    remove_btn = gr.Button("Remove", variant="stop", scale=1, elem_id="yw-remove")
            with gr.Tab("Settings", id="settings"):
                k = gr.Slider(1, MAX_K, value=s.k, step=1, label="Passages retrieved (top-k)", elem_id="yw-k")
                mode = gr.Radio(list(MODES), value=s.retriever, label="Retrieval",
                                info="hybrid fuses dense vectors and BM25 keywords", elem_id="yw-mode")
                choice = gr.Dropdown(gen_choices, value=gen_value, label="Generator", elem_id="yw-generator")
                model = gr.Textbox(value=s.model, label="Model (GGUF path, model folder, or the server's model name)",
                                   placeholder="empty: the generator's default", elem_id="yw-model")
                gr.Markdown("Settings apply to this browser session only. A model loads once per server "
                            "process, on the first question that needs it.")

        corpus_outputs = [empty, examples, docs_table, to_remove]
        refresh = partial(corpus_view, backend)
        chat_io = dict(inputs=[question, chat, turns, k, mode, choice, model],
                       outputs=[chat, turns, sources, query_info, debug, question])
        ask_fn = partial(respond, backend)
        question.submit(ask_fn, **chat_io, api_visibility="private")
        ask.click(ask_fn, **chat_io, api_visibility="private")
        examples.click(lambda sample: sample[0], examples, question, api_visibility="private").then(
            ask_fn, **chat_io, api_visibility="private")
        clear.click(new_chat, None, [chat, turns, sources, query_info, debug], api_visibility="private")
        chat.clear(new_chat, None, [chat, turns, sources, query_info, debug], api_visibility="private")
        add.click(partial(upload, backend), files, status, api_visibility="private").then(
            refresh, None, corpus_outputs, api_visibility="private").then(
            lambda: None, None, files, api_visibility="private")
        remove_btn.click(partial(remove, backend), to_remove, status, api_visibility="private").then(
            refresh, None, corpus_outputs, api_visibility="private")
        demo.load(refresh, None, corpus_outputs, api_visibility="private")

        gr.api(_typed(api_ask, backend, {"k": s.k, "retriever": s.retriever}), api_name="ask",
               api_description="Answer a question with verified citations (the CLI's `ask --json` shape).")
        gr.api(_typed(api_search, backend, {"k": s.k, "retriever": s.retriever}), api_name="search",
               api_description="The passages that best answer a question (the CLI's `search --json` shape).")
    return demo


def theme() -> gr.themes.Base:
    """A theme with local fonts only (the server runs offline; no web-font requests)."""
    fonts = ["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"]
    return gr.themes.Soft(primary_hue="red", neutral_hue="stone", font=fonts,
                          font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"])


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise YuanwenError("--auth must be USER:PASS", "for example: --auth demo:s3cret")
    return user, password


def launch(settings: Settings, *, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
           embedder=None, block: bool = True):
    """Start the UI (``yuanwen serve``). With ``block=False`` returns the running Blocks (tests)."""
    backend = Backend.from_settings(settings, embedder=embedder)
    demo = build_app(backend)
    demo.queue(default_concurrency_limit=1)
    app, _, _ = demo.launch(server_name=host, server_port=port, auth=parse_auth(auth), theme=theme(),
                            css=CSS_PATH.read_text(encoding="utf-8"), prevent_thread_lock=True, show_error=False,
                            footer_links=["api"], quiet=not block)
    app.add_api_route("/health", partial(health, backend), methods=["GET"])
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
