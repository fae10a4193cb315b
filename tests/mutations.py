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


def make_operator_bomb(target: str | Path, *, operators: int = 8_000_000) -> Path:
    """A one-page PDF whose content stream holds ``operators`` tiny text-showing operators: about a
    hundred kilobytes on disk, under pypdf's decompression limit, yet parsing it into operations
    needs gigabytes of memory (what the worker's memory limit is for)."""
    import io
    import zlib

    block = b"(a) Tj " * 10_000
    compressor = zlib.compressobj(9)
    data = compressor.compress(b"BT /F1 12 Tf 72 720 Td ")
    for _ in range(operators // 10_000):
        data += compressor.compress(block)
    data += compressor.compress(b" ET") + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
         b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    offsets.append(out.tell())
    out.write(b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    target = Path(target)
    target.write_bytes(out.getvalue())
    return target
