"""Markdown as readers see it: heading markers, link targets and emphasis marks removed.

Citations quote chunk text, so ``## 标题`` and ``[文字](http://…)`` would otherwise show up in answers.
"""

from __future__ import annotations

import re

_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+|[ \t]+#+[ \t]*$", re.MULTILINE)
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(\S(?:[^\n]*?\S)?)\1")



def markdown_to_text(text: str) -> str:
    """Markdown as readers see it: heading markers, link targets and emphasis marks removed.

    Citations quote chunk text, so ``## 标题`` and ``[文字](http://…)`` would otherwise show up in answers.
    """
    text = _MD_HEADING.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return text
