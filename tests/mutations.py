"""Damaged PDFs for the fault campaign: seeded mutations of real test PDFs, one kind at a time.

Kinds: byte flips, truncation, a deleted or duplicated xref entry, a corrupted stream (bytes inside
``stream ... endstream`` overwritten), a wrong ``/Length``. The same seed gives the same files.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

KINDS = ("flip", "truncate", "xref-delete", "xref-duplicate", "stream", "length")


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    """One damaged copy of ``data``."""
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if kind == "truncate":
        return data[: rng.randint(len(data) // 10, len(data) - 1)]
    if kind in ("xref-delete", "xref-duplicate"):
        entries = [m.span() for m in re.finditer(rb"\d{10} \d{5} [nf] ?\r?\n", data)]
        if not entries:
            return mutate(data, "flip", rng)
        start, end = rng.choice(entries)
        line = data[start:end]
        return data[:start] + (b"" if kind == "xref-delete" else line + line) + data[end:]
    if kind == "stream":
        streams = [m.end() for m in re.finditer(rb"stream\r?\n", data)]
        if not streams:
            return mutate(data, "flip", rng)
        at = rng.choice(streams)
        size = rng.randint(1, 64)
        return data[:at] + bytes(rng.randrange(256) for _ in range(size)) + data[at + size:]
    if kind == "length":
        lengths = [m.span(1) for m in re.finditer(rb"/Length (\d+)", data)]
        if not lengths:
            return mutate(data, "flip", rng)
        start, end = rng.choice(lengths)
        value = int(data[start:end]) + rng.choice((-1000, -10, -1, 1, 10, 10_000_000))
        return data[:start] + str(max(value, 0)).encode() + data[end:]
    raise ValueError(kind)


def mutated_pdfs(sources: list[Path], folder: Path, *, count: int, seed: int = 20261129) -> list[tuple[Path, str]]:
    """``count`` damaged files written to ``folder``: (path, kind), kinds and sources in turn."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        source = sources[(i // len(KINDS)) % len(sources)]
        path = folder / f"{i:03d}-{kind}-{source.stem}.pdf"
        path.write_bytes(mutate(source.read_bytes(), kind, rng))
        out.append((path, kind))
    return out

