"""What every diagnostic shares: the chunk labels it takes as input, the ``Diagnostic`` it returns,
and the figure helpers behind the charts."""

from __future__ import annotations

import io
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import matplotlib
import numpy as np
from matplotlib.figure import Figure

DocId = Hashable


class ChunkInfo(NamedTuple):
    """One chunk as the diagnostics see it; row ``i`` of the embeddings belongs to ``chunks[i]``."""

    chunk_id: int
    doc_id: DocId
    lang: str
    page: int | None = None


class QueryEncoder(Protocol):
    """What the bias matrix needs from a model; ``SentenceTransformer`` satisfies it."""

    def encode_query(self, inputs: list[str], **kwargs: Any) -> np.ndarray: ...


@dataclass
class Diagnostic:
    """A chart for the UI: ``figure`` goes to ``gr.Plot``, ``explanation`` beside it."""

    title: str
    figure: Figure
    explanation: str
    data: Any


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (for tests, reports and downloads)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _new_figure(width: float, height: float) -> tuple[Figure, Any]:
    # Figure() rather than pyplot: no global figure registry to leak from a long-running server.
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _language_colors(languages: Iterable[str]) -> dict[str, Any]:
    distinct = sorted(set(languages))
    cmap = matplotlib.colormaps["tab20" if len(distinct) > 10 else "tab10"]
    return {lang: cmap(i % cmap.N) for i, lang in enumerate(distinct)}


def _rows_by_doc(chunks: Sequence[ChunkInfo]) -> dict[DocId, np.ndarray]:
    rows: dict[DocId, list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows.setdefault(ChunkInfo(*chunk).doc_id, []).append(row)
    return {doc: np.array(r, dtype=np.int64) for doc, r in rows.items()}
