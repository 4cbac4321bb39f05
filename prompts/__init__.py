"""Prompt templates shipped as package data, rendered strictly.

Templates are plain ``string.Template`` files (``$name`` placeholders) so they can be
read and edited without the code; a missing or unexpected variable is an error rather
than a silently half-filled prompt. ``--show-prompt`` prints what these produce.
"""

from __future__ import annotations

import functools
import string
from importlib import resources

from rag.errors import YuanwenError


class PromptError(YuanwenError):
    """A prompt template is missing or was rendered with the wrong variables."""


@functools.lru_cache(maxsize=None)
def load_template(name: str) -> string.Template:
    """The template ``prompts/<name>.txt`` (read once per process)."""
    path = resources.files(__package__).joinpath(f"{name}.txt")
    if not path.is_file():
        raise PromptError(
            f"prompt template {name!r} not found",
            f"add prompts/{name}.txt or use one of: {', '.join(template_names())}",
        )
    template = string.Template(path.read_text(encoding="utf-8").rstrip("\n"))
    if not template.is_valid():
        raise PromptError(f"prompt template {name!r} has a malformed placeholder", "write $name or $$ for a dollar sign")
    return template


def opening(name: str) -> str:
    """The text every rendering of template ``name`` starts with (all before its first placeholder): fixed, so
    a chat engine can keep it evaluated together with the system prompt."""
    template = load_template(name)
    for match in template.pattern.finditer(template.template):
        if match.group("named") or match.group("braced"):
            return string.Template(template.template[: match.start()]).substitute()
    return template.substitute()


def template_names() -> list[str]:
    return sorted(p.name[:-4] for p in resources.files(__package__).iterdir() if p.name.endswith(".txt"))


def render(name: str, **values: object) -> str:
    """Fill template ``name`` with exactly the variables it declares."""
    template = load_template(name)
    wanted = set(template.get_identifiers())
    missing = wanted - values.keys()
    extra = values.keys() - wanted
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing {sorted(missing)}")
        if extra:
            problems.append(f"unexpected {sorted(extra)}")
        raise PromptError(
            f"prompt template {name!r} rendered with wrong variables: {'; '.join(problems)}",
            f"pass exactly {sorted(wanted)}",
        )
    return template.substitute({k: str(v) for k, v in values.items()})
