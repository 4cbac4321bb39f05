"""The conversation sidebar and feedback: handlers between the chat page and rag/app/conversations.py.

A browser session holds only which conversation it shows (``ConversationState``: its id and
which chat message is which saved answer); everything else is read from the store, always
through the session's user (the ``--auth`` login, else the local user), so a session can only
list, open, rename, delete, export or rate its own user's conversations.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from rag.app.conversations import LOCAL_USER, Conversation, conversation_markdown
from rag.schema import Answer
from ui import render


def user_of(request: gr.Request | None) -> str:
    return (getattr(request, "username", None) or LOCAL_USER) if request is not None else LOCAL_USER


def empty_state() -> dict:
    """No conversation yet: it is created when its first answer is saved."""
    return {"id": None, "turns": {}, "rated": None}


def conversation_choices(backend, kb: str, user: str) -> list[tuple[str, str]]:
    """(label, id) for the sidebar: the user's conversations in ``kb``, newest first."""
    return [(c.title, c.id) for c in backend.conversations.list(user, kb)]


def sidebar(backend, kb: str, request: gr.Request, selected: str | None = None):
    return gr.Radio(choices=conversation_choices(backend, kb, user_of(request)), value=selected)


def save_answer(backend, kb: str, state: dict, answer: Answer, chat_index: int, request: gr.Request) -> dict:
    """Save the final answer of the message at ``chat_index``; returns the session's new state."""
    conv_id, turn_id = backend.conversations.add_turn(user_of(request), state.get("id"), kb, answer)
    turns = dict(state.get("turns") or {})
    turns[str(chat_index)] = turn_id
    return {"id": conv_id, "turns": turns, "rated": state.get("rated")}


def chat_messages(conv: Conversation) -> tuple[list[dict], list[dict], dict]:
    """A saved conversation as (Chatbot messages, pipeline history, session state)."""
    chat: list[dict] = []
    turns: dict[str, int] = {}
    for t in conv.turns:
        chat.append({"role": "user", "content": t.answer.question})
        turns[str(len(chat))] = t.id
        chat.append({"role": "assistant", "content": render.answer_markdown(t.answer)})
    return chat, conv.history(), {"id": conv.id, "turns": turns, "rated": None}


def open_conversation(backend, conversation_id: str | None, request: gr.Request):
    """Reopen a conversation: (chat, history, state, sources, query info, debug, copy text, status)."""
    if not conversation_id:
        return (gr.skip(),) * 8
    try:
        conv = backend.conversations.get(user_of(request), conversation_id)
    except Exception as exc:
        from ui.app import friendly_error

        return (*(gr.skip(),) * 7, render.error_markdown(*friendly_error(exc)))
    chat, history, state = chat_messages(conv)
    last = conv.turns[-1].answer if conv.turns else None
    return (chat, history, state, render.sources_html(last), render.query_html(last), render.debug_html(last),
            render.text_with_sources(last) if last else "", "")


def show_sources_of(backend, state: dict, selected: gr.SelectData, request: gr.Request):
    """Clicking an earlier answer shows its Sources (and what it searched for)."""
    turn_id = (state or {}).get("turns", {}).get(str(selected.index))
    if turn_id is None or not state.get("id"):
        return gr.skip(), gr.skip(), gr.skip()
    conv = backend.conversations.get(user_of(request), state["id"])
    turn = next((t for t in conv.turns if t.id == turn_id), None)
    if turn is None:
        return gr.skip(), gr.skip(), gr.skip()
    return (render.sources_html(turn.answer), render.query_html(turn.answer), render.text_with_sources(turn.answer))


def rename(backend, state: dict, title: str, kb: str, request: gr.Request):
    """(status, sidebar, title box)."""
    if not (state or {}).get("id"):
        return "Ask a question first: a conversation is saved with its first answer.", gr.skip(), gr.skip()
    try:
        backend.conversations.rename(user_of(request), state["id"], title)
    except Exception as exc:
        from ui.app import friendly_error

        return render.error_markdown(*friendly_error(exc)), gr.skip(), gr.skip()
    return "Renamed.", sidebar(backend, kb, request, state["id"]), ""


def delete(backend, state: dict, kb: str, request: gr.Request):
    """(status, sidebar, new session state) — the chat itself is cleared by the caller's next step."""
    if not (state or {}).get("id"):
        return "Nothing to delete: this chat is not saved yet.", gr.skip(), gr.skip()
    backend.conversations.delete(user_of(request), state["id"])
    return "Deleted the conversation.", sidebar(backend, kb, request), empty_state()


EXPORT_KEEP_SECONDS = 3600  # Gradio copies the file for the download at once; ours is only needed that long


def export_folder(root: Path | None = None, now: float | None = None) -> Path:
    """A fresh private folder for one export, under one per-user folder whose exports older than an hour are
    removed first (so a long-running server does not fill the temp folder)."""
    root = root or Path(tempfile.gettempdir()) / f"yuanwen-exports-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    cutoff = (now if now is not None else time.time()) - EXPORT_KEEP_SECONDS
    for old in root.iterdir():
        if old.is_dir() and not old.is_symlink() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="export-", dir=root))


def export_markdown(backend, state: dict, request: gr.Request):
    """The conversation as a Markdown file to download (numbered citations, quoted passages)."""
    if not (state or {}).get("id"):
        return gr.update(value=None, visible=False), "Ask a question first: there is nothing to export yet."
    conv = backend.conversations.get(user_of(request), state["id"])
    name = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", conv.title).strip("_")[:40] or "conversation"
    path = export_folder() / f"{name}-{conv.id}.md"
    path.write_text(conversation_markdown(conv), encoding="utf-8")
    return gr.update(value=str(path), visible=True), f"Exported “{render.esc(conv.title)}”."


def rate(backend, state: dict, liked: gr.LikeData, request: gr.Request):
    """👍/👎 on an answer (clicking the same again clears it); returns (status, state)."""
    turn_id = (state or {}).get("turns", {}).get(str(liked.index if not isinstance(liked.index, list)
                                                     else liked.index[0]))
    if turn_id is None:
        return "Only saved answers can be rated.", gr.skip()
    rating = None if liked.liked in ("", None) else ("up" if liked.liked else "down")
    backend.conversations.rate(user_of(request), turn_id, rating)
    state = {**state, "rated": turn_id if rating else None}
    label = {"up": "👍", "down": "👎"}.get(rating, "cleared")
    return f"Feedback saved ({label}). Add a comment below if you like.", state


def comment(backend, state: dict, text: str, request: gr.Request):
    """Attach a comment to the last rated answer; returns (status, comment box)."""
    turn_id = (state or {}).get("rated")
    if not turn_id:
        return "Rate an answer with 👍 or 👎 first, then comment on it.", gr.skip()
    store = backend.conversations
    user = user_of(request)
    conv = store.get(user, state["id"])
    turn = next((t for t in conv.turns if t.id == turn_id), None)
    if turn is None or turn.rating is None:
        return "Rate an answer with 👍 or 👎 first, then comment on it.", gr.skip()
    store.rate(user, turn_id, "up" if turn.rating > 0 else "down", text)
    return "Comment saved.", ""
