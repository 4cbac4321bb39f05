"""Any GGUF chat model through llama-cpp-python: the fast engine on a CPU (mmap load, quantised matmuls)."""

from __future__ import annotations

import atexit
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

from rag.errors import ModelError
from rag.generation.base import Generator, load_once
from rag.generation.turns import TurnQueue

INSTALL_HINT = "run `make llm`, or `pip install llama-cpp-python==0.3.36` (builds for ~20 min on 2 cores)"
PREFIX_CACHE_BYTES = 512 << 20
MAX_SAVED_HEADS = 4  # fixed prompt heads kept per loaded model (answer and follow-up prompts, two languages)


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
    """One llama.cpp context plus the first-come-first-served lock that keeps two requests from interleaving in
    it, and the saved states of the fixed prompt heads (system prompt + the user turn's opening) evaluated in it."""

    def __init__(self, llm, prefix_cache: bool):
        self.llm = llm
        self.lock = TurnQueue()
        self.heads: dict[tuple[int, ...], object] = {}  # head tokens -> LlamaState, newest last
        self.head_hits = 0  # prompts that started from a saved head instead of re-evaluating it
        self.openings: set[str] = set()  # fixed user-turn openings that count as part of the head (prime)
        self.formatter = _chat_formatter(llm)
        # Free the context while llama_cpp is still importable; freeing it during interpreter teardown raises.
        atexit.register(llm.close)
        if prefix_cache:
            llama_cpp = import_llama_cpp()
            llm.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=PREFIX_CACHE_BYTES))

    def start_from_head(self, head: list[int]) -> None:
        """Leave the context holding ``head`` evaluated, so the prompt after it is all that is prefilled.

        llama.cpp itself keeps the prefix a prompt shares with the previous one; this keeps each head for when
        another prompt came in between (a follow-up rewrite, the other language): its state is restored
        (milliseconds) instead of prefilled again (seconds on a CPU)."""
        llm, key = self.llm, tuple(head)
        if not head or llm.n_tokens >= len(head) and tuple(llm.input_ids[: len(head)].tolist()) == key:
            return
        state = self.heads.pop(key, None)
        if state is not None:
            llm.load_state(state)
            self.head_hits += 1
        else:
            llm.reset()
            llm.eval(head)
            state = _slim_state(llm)
        self.heads[key] = state
        while len(self.heads) > MAX_SAVED_HEADS:
            self.heads.pop(next(iter(self.heads)))


def _chat_formatter(llm):
    """The GGUF's own chat template as a formatter (None for a GGUF without one)."""
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token_id: int) -> str:
        return llm._model.token_get_text(token_id) if token_id != -1 else ""

    return Jinja2ChatFormatter(template, eos_token=token_text(llm.token_eos()), bos_token=token_text(llm.token_bos()))


def _slim_state(llm):
    """The context's state without the logits table: llama_cpp copies n_tokens × vocabulary floats (150 MB for
    a 250-token head of Qwen) that nothing reads, as the first prompt token after the head is evaluated again."""
    import numpy as np
    from llama_cpp.llama import LlamaState

    size = llama_cpp_state_size(llm)
    buffer = (ctypes.c_uint8 * size)()
    n_bytes = import_llama_cpp().llama_state_get_data(llm._ctx.ctx, buffer, size)
    return LlamaState(scores=np.zeros((1, llm.n_vocab()), dtype=np.single), input_ids=llm.input_ids.copy(),
                      n_tokens=llm.n_tokens, llama_state=bytes(buffer)[:n_bytes], llama_state_size=n_bytes,
                      seed=llm._seed)


def llama_cpp_state_size(llm) -> int:
    return int(import_llama_cpp().llama_state_get_size(llm._ctx.ctx))


class LlamaCppGenerator(Generator):
    """A GGUF model by path; the chat template comes from the GGUF itself.

    llama.cpp already keeps the evaluated prefix shared with the previous prompt (the fixed system prompt), so a
    second question only pays for its own passages; each prompt head's state is also kept (``_LoadedLlama``), so a
    follow-up rewrite or a question in the other language in between does not cost the head again. ``prefix_cache`` adds llama_cpp's RAM cache of earlier states:
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
        n_batch: int | None = None,
    ):
        self.model = str(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.prefix_cache = prefix_cache
        # Tokens evaluated per batch (llama.cpp's default when None). 1 sidesteps llama.cpp's batched kernels, whose
        # Q4_1 path gives wrong logits on some AVX2-only CPUs (AMD EPYC seen): the tests' SmolLM2 is Q4_1.
        self.n_batch = n_batch

    def _loaded(self) -> _LoadedLlama:
        key = f"{self.model}|n_ctx={self.n_ctx}|threads={self.n_threads}|cache={self.prefix_cache}|batch={self.n_batch}"
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
            extra = {"n_batch": self.n_batch} if self.n_batch else {}
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False,
                                  **extra)
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
        """Load the model and evaluate the fixed heads of the answer and follow-up rewrite prompts (Chinese and
        English), so a question prefills only its own evidence and question, and a follow-up only the chat."""
        import prompts

        for language in ("zh", "en"):
            # The follow-up rewrite prompt is one user message whose instructions and example come first.
            rewrite = prompts.opening(f"followup_{language}")
            self.prime([{"role": "user", "content": rewrite + "?"}], opening=rewrite)
        for language in ("zh", "en"):
            opening = prompts.opening(f"answer_{language}")
            self.prime([{"role": "system", "content": prompts.render(f"system_{language}")},
                        {"role": "user", "content": opening + "?"}], opening=opening)

    def prime(self, messages: list[dict], opening: str = "") -> None:
        """Evaluate and keep the head of ``messages``: everything before the last message's content, plus
        ``opening``, fixed text that content starts with (from now on part of every prompt's head that has it)."""
        loaded = self._loaded()
        with loaded.lock.turn():
            if opening:
                loaded.openings.add(opening)
            loaded.start_from_head(self._head_tokens(loaded.llm, messages, loaded.openings))

    def _head_tokens(self, llm, messages: list[dict], openings: set[str] = frozenset()) -> list[int]:
        """Tokens of the prompt before the last message's content, and of the longest of ``openings`` that
        content starts with: the same for every question in a language.

        Taken as the tokens the whole prompt and its head have in common, so a token that merges across the
        boundary is never counted as shared."""
        prompt = self.render_prompt(messages)
        content = messages[-1]["content"] if messages else ""
        at = prompt.rfind(content) if prompt and content else -1
        if at <= 0:
            return []
        at += max((len(o) for o in openings if content.startswith(o)), default=0)
        whole = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        head = llm.tokenize(prompt[:at].encode("utf-8"), add_bos=True, special=True)
        n = 0
        for a, b in zip(whole, head):
            if a != b:
                break
            n += 1
        return whole[:n]

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        loaded = self._loaded()
        with loaded.lock.turn():
            loaded.start_from_head(self._head_tokens(loaded.llm, messages, loaded.openings))
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

    def yes_probability(self, messages: list[dict], *, yes: tuple[str, ...], no: tuple[str, ...]) -> float | None:
        """P(yes) / (P(yes) + P(no)) of the first token the model would write after ``messages``: one forward
        pass over the prompt after its head (kept evaluated, as for answers), no sampling."""
        import numpy as np

        loaded = self._loaded()
        llm = loaded.llm
        prompt = self.render_prompt(messages)
        if prompt is None:
            return None
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        yes_ids, no_ids = (sorted({llm.tokenize(w.encode("utf-8"), add_bos=False, special=False)[0] for w in words})
                           for words in (yes, no))
        with loaded.lock.turn():
            head = self._head_tokens(llm, messages, loaded.openings)
            loaded.start_from_head(head)
            # Everything after the head is evaluated in one batch, even when the context holds more of this
            # prompt already: llama.cpp's logits for one token alone differ slightly from a batch's, and the
            # same question must get the same number.
            llm.n_tokens = len(head)  # llm.eval drops the cache past this point
            llm.eval(tokens[len(head):])
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
        top = logits.max()
        p_yes, p_no = (float(np.exp(logits[ids] - top).sum()) for ids in (yes_ids, no_ids))
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else None

    def render_prompt(self, messages: list[dict]) -> str | None:
        """The prompt as the GGUF's own chat template renders it (None for a GGUF without a template)."""
        formatter = self._loaded().formatter
        return formatter(messages=messages).prompt if formatter is not None else None
