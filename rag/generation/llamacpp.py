"""Any GGUF chat model through llama-cpp-python: the fast engine on a CPU (mmap load, quantised matmuls)."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from rag.errors import ModelError
from rag.generation.base import Generator, load_once

INSTALL_HINT = "run `make llm`, or `pip install llama-cpp-python==0.3.36` (builds for ~20 min on 2 cores)"
PREFIX_CACHE_BYTES = 512 << 20


def import_llama_cpp():
    """The llama_cpp module, or a ModelError that says how to install it."""
    try:
        import llama_cpp
    except ImportError as error:
        raise ModelError(f"llama-cpp-python is not installed ({error})", hint=INSTALL_HINT) from None
    return llama_cpp


def llama_cpp_available() -> bool:
    try:
        import_llama_cpp()
    except ModelError:
        return False
    return True


class _LoadedLlama:
    """One llama.cpp context plus the lock that keeps two requests from interleaving in it."""

    def __init__(self, llm, prefix_cache: bool):
        self.llm = llm
        self.lock = threading.Lock()
        # Free the context while llama_cpp is still importable; freeing it during interpreter teardown raises.
        atexit.register(llm.close)
        if prefix_cache:
            llama_cpp = import_llama_cpp()
            llm.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=PREFIX_CACHE_BYTES))


class LlamaCppGenerator(Generator):
    """A GGUF model by path; the chat template comes from the GGUF itself.

    llama.cpp already keeps the evaluated prefix shared with the previous prompt (the fixed system prompt), so a
    second question only pays for its own passages. ``prefix_cache`` adds llama_cpp's RAM cache of earlier states:
    measured (bench/bench_generators.py) it only helps when a whole prompt comes back (a repeated question: TTFT
    2.4 → 1.3 s for Qwen 0.5B, 5.2 → 2.0 s for 1.5B) and costs 0.4–1 s of state saving after every answer, so it
    is off by default.
    """

    name = "llamacpp"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        prefix_cache: bool = False,
    ):
        self.model = str(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.prefix_cache = prefix_cache

    def _loaded(self) -> _LoadedLlama:
        key = f"{self.model}|n_ctx={self.n_ctx}|threads={self.n_threads}|cache={self.prefix_cache}"
        return load_once(self.name, key, self._load)

    def _load(self) -> _LoadedLlama:
        llama_cpp = import_llama_cpp()
        path = Path(self.model)
        if not path.is_file():
            raise ModelError(
                f"no GGUF model at {path}",
                hint="give the path of a .gguf file, or install an offline model: "
                "`python -m rag.generation.offline_models install qwen2.5-coder-0.5b`",
            )
        try:
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise ModelError(
                f"llama.cpp cannot load {path}: {error}",
                hint="check that the file is a complete GGUF (re-assemble it) and that llama-cpp-python is 0.3.36",
            ) from None
        if "chat_template.default" in llm._chat_handlers:
            # Use the GGUF's template verbatim (llama-cpp-python may otherwise swap in a look-alike built-in one),
            # so ``render_prompt`` shows exactly what the model is given.
            llm.chat_format = "chat_template.default"
        return _LoadedLlama(llm, self.prefix_cache)

    def warm_up(self) -> None:
        self._loaded()

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        loaded = self._loaded()
        with loaded.lock:
            chunks = loaded.llm.create_chat_completion(
                messages,
                stream=True,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop or [],
                seed=0,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece

    def render_prompt(self, messages: list[dict]) -> str | None:
        """The prompt as the GGUF's own chat template renders it (None for a GGUF without a template)."""
        llm = self._loaded().llm
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token_text(token_id: int) -> str:
            return llm._model.token_get_text(token_id) if token_id != -1 else ""

        formatter = Jinja2ChatFormatter(
            template, eos_token=token_text(llm.token_eos()), bos_token=token_text(llm.token_bos())
        )
        return formatter(messages=messages).prompt
