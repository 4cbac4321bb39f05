"""Any OpenAI-compatible chat server (llama.cpp's llama-server, vLLM, Ollama, LM Studio, a hosted API) over SSE.

Plain httpx, no SDK: one POST to ``/v1/chat/completions`` with ``stream: true``, read line by line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from rag.errors import ModelError
from rag.generation.base import Generator, cut_at_stop

DEFAULT_BASE_URL = "http://127.0.0.1:8080/v1"


def chat_completions_url(base_url: str) -> str:
    """``http://host:port`` and ``http://host:port/v1`` both mean ``http://host:port/v1/chat/completions``."""
    base = base_url.rstrip("/")
    if urlsplit(base).path in ("", "/"):
        base += "/v1"
    return base + "/chat/completions"


class _RetryableError(Exception):
    """The server could not be reached or failed (5xx) before sending anything: worth another try."""


class OpenAIGenerator(Generator):
    """A model served behind an OpenAI-compatible endpoint.

    Connection failures and 5xx answers before the first token are retried ``retries`` times with doubling
    backoff; once text has been streamed a failure is reported, never silently restarted. ``api_key`` comes from
    the settings (``openai_key``: $YUANWEN_OPENAI_KEY or $OPENAI_API_KEY), by way of rag.app.builder.
    """

    name = "openai"
    local = False  # the server schedules its own requests

    def __init__(
        self,
        model: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.5,
    ):
        self.model = model
        self.base_url = base_url
        self.url = chat_completions_url(base_url)
        self.api_key = api_key or None
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.retries = retries
        self.backoff = backoff

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            payload["stop"] = stop
        # Some servers ignore ``stop``; cutting here too makes every server behave the same.
        yield from cut_at_stop(self._stream_with_retries(payload), stop)

    def _stream_with_retries(self, payload: dict) -> Iterator[str]:
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            started = False
            try:
                for piece in self._stream_once(payload, headers):
                    started = True
                    yield piece
                return
            except _RetryableError as error:
                if started or attempt == self.retries:
                    raise self._as_model_error(error.__cause__ or error) from None
                time.sleep(self.backoff * 2**attempt)

    def _stream_once(self, payload: dict, headers: dict) -> Iterator[str]:
        try:
            with httpx.Client(timeout=self.timeout) as client, client.stream(
                "POST", self.url, json=payload, headers=headers
            ) as response:
                if response.status_code >= 500:
                    response.read()
                    raise _RetryableError(f"HTTP {response.status_code}: {response.text[:300]}")
                if response.status_code >= 400:
                    response.read()
                    raise self._client_error(response)
                for line in response.iter_lines():
                    piece = self._piece_from_sse_line(line)
                    if piece is _DONE:
                        return
                    if piece:
                        yield piece
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise _RetryableError(str(error)) from error
        except httpx.TimeoutException as error:
            raise ModelError(
                f"the server at {self.base_url} stopped answering ({type(error).__name__})",
                hint="the model may be overloaded; retry, raise the timeout, or choose another generator",
            ) from None
        except httpx.TransportError as error:
            raise ModelError(
                f"the connection to {self.base_url} broke: {error}", hint="check the server's log and retry"
            ) from None

    def _piece_from_sse_line(self, line: str):
        if not line.startswith("data:"):
            return None  # blank keep-alive lines, comments, "event:" fields
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return _DONE
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            raise ModelError(
                f"the server at {self.base_url} sent a line that is not JSON: {data[:200]!r}",
                hint="is this an OpenAI-compatible endpoint? check the base URL",
            ) from None
        if "error" in event:
            raise ModelError(
                f"the server at {self.base_url} reported: {event['error']}", hint="check the server's log"
            )
        choices = event.get("choices") or [{}]
        return (choices[0].get("delta") or {}).get("content")

    def _client_error(self, response: httpx.Response) -> ModelError:
        hints = {
            401: "set the API key in YUANWEN_OPENAI_KEY or OPENAI_API_KEY (or openai_key in yuanwen.toml)",
            403: "the API key is not allowed to use this model",
            404: f"check the base URL and that the server serves model {self.model!r}",
        }
        return ModelError(
            f"the server at {self.base_url} refused the request: HTTP {response.status_code} {response.text[:300]}",
            hint=hints.get(response.status_code, "check the model name and request options"),
        )

    def _as_model_error(self, error: BaseException) -> ModelError:
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
            return ModelError(
                f"no OpenAI-compatible server at {self.base_url}",
                hint="start one (see docs) or choose another generator",
            )
        return ModelError(
            f"the server at {self.base_url} failed after {self.retries + 1} tries: {error}",
            hint="check the server's log, or choose another generator",
        )


_DONE = object()
