"""An OpenAI-compatible chat endpoint, so any OpenAI client (Open WebUI, Cherry Studio, Chatbox,
LobeChat, the ``openai`` SDK) can use yuanwen as a cited-answer model.

``GET /v1/models`` lists one model per knowledge base; ``POST /v1/chat/completions`` answers the
last user message with the same pipeline as the chat, the earlier messages being its history (so
follow-ups are rewritten as in the UI). The reply's ``content`` is the verified answer with its
``[n]`` markers and a Sources block; the response (and the last stream chunk) also carries
``citations``: source, title, span and quoted text. A refusal is a normal answer.

Streaming sends the role at once, then the *verified* answer: the pipeline checks every citation
after the model has finished, and a stream cannot take back text it already sent. Meanwhile it sends
SSE comments, which clients ignore: ``: queued, N ahead`` while the request waits for the chat model
(requests take turns at it in arrival order, they never fail for being busy), ``: queued, 0 ahead`` when
its wait is over, and ``: generating`` for each piece the model writes.

Requests run in their own pool of threads (``CHAT_THREADS``), so however many wait for the model,
``/health`` and the UI's routes keep answering from the server's default pool.

With ``--api-key`` every request needs ``Authorization: Bearer KEY``. With ``--auth`` and no key
the endpoint is closed (401), so a login-protected server never serves its documents unauthenticated.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rag.app.runtime import Waiting
from rag.errors import YuanwenError
from rag.schema import Answer
from ui.render import SOURCES_SEPARATOR, text_with_sources

log = logging.getLogger("yuanwen.openai_api")
CHAT_THREADS = 64  # chat requests being served or waiting for the model at once; more wait for a thread


def error_response(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
    """An error in OpenAI's shape, which every client knows how to show."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def message_text(content) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def to_question_and_history(messages: list) -> tuple[str, list[dict]]:
    """The last user message and the user/assistant turns before it (system messages are not
    instructions to the pipeline: its prompt is its own). Our Sources block is cut from answers."""
    turns = []
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        text = message_text(m.get("content")).strip()
        if m["role"] == "assistant":
            text = text.split(SOURCES_SEPARATOR, 1)[0].strip()
        turns.append({"role": m["role"], "content": text})
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"]:
        raise YuanwenError("the last message must be a non-empty user message", "end `messages` with the question")
    return turns[-1]["content"], turns[:-1]


def _extra(answer: Answer) -> dict:
    """yuanwen's fields beside OpenAI's: what a client needs to show the evidence and who answered."""
    from rag.generation.offline_models import display_name

    return {"citations": answer.citation_records(), "refused": answer.refused, "query": answer.query,
            "generator": answer.generator, "generator_model": display_name(answer.model)}


def _check_key(request: Request, api_key: str | None, login_required: bool):
    if not api_key:
        if login_required:
            return error_response(401, "this server requires a login; start it with --api-key KEY to use the API",
                                  "authentication_error", "invalid_api_key")
        return None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
        return error_response(401, "invalid API key (send Authorization: Bearer KEY)", "authentication_error",
                              "invalid_api_key")
    return None


def openai_router(kb_names: Callable[[], list[str]], answer_for: Callable[[str, str, list[dict]], Iterator],
                  *, api_key: str | None = None, login_required: bool = False) -> APIRouter:
    """Routes for ``/v1``. ``kb_names()`` lists the knowledge bases; ``answer_for(kb, question, history)``
    runs the pipeline in the request's turn (``rag.app.runtime.ask_in_turn``: ``Waiting`` places, text pieces,
    then the Answer)."""
    router = APIRouter(prefix="/v1")
    threads: list[anyio.CapacityLimiter] = []  # made in the server's event loop, on the first request

    def limiter() -> anyio.CapacityLimiter:
        if not threads:
            threads.append(anyio.CapacityLimiter(CHAT_THREADS))
        return threads[0]

    @router.get("/models")
    def models(request: Request):
        denied = _check_key(request, api_key, login_required)
        if denied is not None:
            return denied
        now = int(time.time())
        return {"object": "list",
                "data": [{"id": name, "object": "model", "created": now, "owned_by": "yuanwen"} for name in kb_names()]}

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        denied = _check_key(request, api_key, login_required)
        if denied is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return error_response(400, "the request body is not JSON")
        if not isinstance(body, dict):
            return error_response(400, "the request body must be a JSON object")
        model = body.get("model") or ""
        names = kb_names()
        if model not in names:
            return error_response(404, f"unknown model {model!r}: use a knowledge base name ({', '.join(names)})",
                                  code="model_not_found")
        try:
            question, history = to_question_and_history(body.get("messages") or [])
        except YuanwenError as exc:
            return error_response(400, f"{exc.message} — {exc.hint}")
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if body.get("stream"):
            events = _stream(answer_for, model, question, history, completion_id, created)
            return StreamingResponse(_in_threads(events, limiter()), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        try:
            answer = await anyio.to_thread.run_sync(_answer, answer_for, model, question, history, limiter=limiter())
        except YuanwenError as exc:
            return error_response(400, exc.message + (f" — {exc.hint}" if exc.hint else ""))
        except Exception as exc:  # one line for the client, the traceback in the server log
            log.exception("chat completion failed")
            return error_response(500, f"{type(exc).__name__}: {exc}", "server_error")
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text_with_sources(answer)}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                **_extra(answer)}

    return router


async def _in_threads(items: Iterator[str], limiter: anyio.CapacityLimiter) -> AsyncIterator[str]:
    """A blocking iterator's items, each taken in a thread of ``limiter``'s pool; closed when the client goes
    (which gives up the request's place at the model)."""
    done = object()
    try:
        while (item := await anyio.to_thread.run_sync(next, items, done, limiter=limiter)) is not done:
            yield item
    finally:
        items.close()


def _answer(answer_for, kb: str, question: str, history: list[dict]) -> Answer:
    final = None
    for piece in answer_for(kb, question, history):
        if isinstance(piece, Answer):
            final = piece
    return final


def _stream(answer_for, kb: str, question: str, history: list[dict], completion_id: str, created: int) -> Iterator[str]:
    """SSE events: the role, comments while the request waits and while the model writes, the verified answer,
    the end."""

    def event(delta: dict, finish: str | None = None, **extra) -> str:
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": kb,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    final: Answer | None = None
    try:
        for piece in answer_for(kb, question, history):
            if isinstance(piece, Answer):
                final = piece
            elif isinstance(piece, Waiting):
                yield f": queued, {piece.ahead} ahead\n\n"
            else:
                yield ": generating\n\n"
    except YuanwenError as exc:
        yield event({"content": f"⚠️ {exc.message}" + (f" — fix: {exc.hint}" if exc.hint else "")})
        yield event({}, "stop")
        yield "data: [DONE]\n\n"
        return
    except Exception as exc:
        log.exception("chat completion failed")
        yield event({"content": f"⚠️ something went wrong ({type(exc).__name__}: {exc})"})
        yield event({}, "stop")
        yield "data: [DONE]\n\n"
        return
    yield event({"content": text_with_sources(final)})
    yield event({}, "stop", **_extra(final))
    yield "data: [DONE]\n\n"
