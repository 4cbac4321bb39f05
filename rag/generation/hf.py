"""Any Hugging Face chat model (a local folder, a cached hub id, or a GGUF via ``gguf_file``) on the CPU.

Slower than llama.cpp for GGUFs (transformers dequantises them to fp32), but it runs any architecture transformers
knows and needs no compiled extension; the tests drive it with a tiny random model.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from rag.errors import ModelError
from rag.generation.base import Generator, cut_at_stop, load_once


class _LoadedModel:
    def __init__(self, tokenizer, model):
        self.tokenizer = tokenizer
        self.model = model


class TransformersGenerator(Generator):
    """A causal LM with a chat template, streamed through ``TextIteratorStreamer`` from a generation thread.

    ``model`` may be a model folder, a hub id already in the local cache (no downloads happen here), or the path of a
    ``.gguf`` file (then loaded with ``gguf_file=``).
    """

    name = "transformers"

    def __init__(self, model: str | Path, *, gguf_file: str | None = None):
        model = str(model)
        if gguf_file is None and model.endswith(".gguf"):
            gguf_file = Path(model).name
            model = str(Path(model).parent)
        self.source = model
        self.gguf_file = gguf_file
        self.model = str(Path(model) / gguf_file) if gguf_file else model

    def _loaded(self) -> _LoadedModel:
        return load_once(self.name, self.model, self._load)

    def _load(self) -> _LoadedModel:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        options = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.source, **options)
            model = AutoModelForCausalLM.from_pretrained(self.source, dtype=torch.float32, **options)
        except (OSError, ValueError) as error:
            raise ModelError(
                f"transformers cannot load {self.model}: {error}",
                hint="give a local model folder (models cannot be downloaded here), or a .gguf path "
                "for the llamacpp generator",
            ) from None
        if not tokenizer.chat_template:
            raise ModelError(
                f"{self.model} has no chat template", hint="choose an instruct/chat model, not a base model"
            )
        model.eval()
        return _LoadedModel(tokenizer, model)

    def warm_up(self) -> None:
        self._loaded()

    def render_prompt(self, messages: list[dict]) -> str:
        return self._loaded().tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        yield from cut_at_stop(self._stream_unstopped(messages, max_tokens, temperature), stop)

    def _stream_unstopped(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        loaded = self._loaded()
        tokenizer = loaded.tokenizer
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        abandoned = threading.Event()

        class StopWhenAbandoned(StoppingCriteria):
            """Ends generation when the caller stops reading, instead of decoding up to max_tokens for nobody."""

            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), abandoned.is_set(), dtype=torch.bool)

        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with torch.inference_mode():
                    loaded.model.generate(
                        **inputs,
                        max_new_tokens=max_tokens,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([StopWhenAbandoned()]),
                        pad_token_id=pad_token_id,
                        **sampling,
                    )
            except BaseException as error:  # handed to the reading thread, which re-raises it
                failure.append(error)
                streamer.end()

        worker = threading.Thread(target=generate, name="transformers-generate", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            abandoned.set()
            worker.join()
        if failure:
            raise ModelError(
                f"{self.model} failed while generating: {failure[0]}", hint="see the log for the traceback"
            ) from failure[0]
