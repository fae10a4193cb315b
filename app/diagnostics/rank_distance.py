"""Diagnostic 2: how far apart the versions of one passage of a translation set land in the full
ranking of a query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import matplotlib
import matplotlib.ticker
import numpy as np

from app.diagnostics.common import ChunkInfo, Diagnostic, DocId, _language_colors, _new_figure, _rows_by_doc
from corpora.languages import language_name


def full_ranks(query_vector: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """1-based rank of every chunk for one query by inner product, shape ``(chunks,)``.

    Ties go to the earlier row, as a stable sort would.
    """
    scores = np.asarray(embeddings, dtype=np.float32) @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


class Version(NamedTuple):
    """One document's version of a passage in the full ranking."""

    doc_id: DocId
    lang: str
    chunk_id: int
    rank: int


@dataclass
class SetRankDistance:
    """Where the versions of one passage of a translation set rank, and how far apart.

    ``anchor_chunk_id`` is the set's best-ranked chunk among the results; each other document of the
    set contributes its chunk best aligned to the anchor. ``distance`` is ``max - min`` rank over
    ``versions``; ``floor`` (versions - 1) is the best possible, all versions side by side.
    """

    docs: tuple
    anchor_chunk_id: int
    versions: list[Version]
    distance: int
    floor: int


def translation_rank_distances(
    query_vector: np.ndarray,
    embeddings: np.ndarray,
    chunks: Sequence[ChunkInfo],
    translation_sets: Iterable[Iterable[DocId]],
    result_chunk_ids: Sequence[int],
) -> list[SetRankDistance]:
    """Rank distance of every translation set that has a chunk among the results.

    The ranking is the full dense ranking of all ``chunks`` for the query (inner product), not the
    filtered or fused result list: rank distance asks where the other versions landed, and BM25
    cannot match across languages by construction.

    Args:
        query_vector: ``(dim,)`` the query's embedding (encoded with the query prompt).
        embeddings: ``(chunks, dim)`` normalised passage embeddings; row i is ``chunks[i]``.
        chunks: ``ChunkInfo(chunk_id, doc_id, lang, page)`` per row.
        translation_sets: groups of document ids known to be translations of each other.
        result_chunk_ids: chunk ids of the result list, best first.

    Returns:
        One ``SetRankDistance`` per set with a result chunk and at least one other version, in the
        order of the sets' best result.
    """
    chunks = [ChunkInfo(*c) for c in chunks]
    if len(chunks) != len(embeddings):
        raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embedding rows")
    embeddings = np.asarray(embeddings, dtype=np.float32)
    ranks = full_ranks(query_vector, embeddings)
    row_of = {c.chunk_id: row for row, c in enumerate(chunks)}
    rows_by_doc = _rows_by_doc(chunks)
    set_of = {doc: frozenset(s) for s in map(frozenset, translation_sets) for doc in s}

    found: list[SetRankDistance] = []
    done: set[frozenset] = set()
    for chunk_id in result_chunk_ids:
        anchor = row_of.get(chunk_id)
        members = set_of.get(chunks[anchor].doc_id) if anchor is not None else None
        if not members or members in done:
            continue
        done.add(members)
        # The anchor is the set's first result; results come best first.
        versions = [Version(chunks[anchor].doc_id, chunks[anchor].lang, chunks[anchor].chunk_id, int(ranks[anchor]))]
        for doc in sorted(members - {chunks[anchor].doc_id}, key=str):
            rows = rows_by_doc.get(doc)
            if rows is None:
                continue  # a marked document that is no longer in the corpus
            # Best aligned chunk: the anchor's nearest within this one document (one language,
            # so the encoder's language preference cannot pick it).
            partner = rows[int(np.argmax(embeddings[rows] @ embeddings[anchor]))]
            versions.append(Version(doc, chunks[partner].lang, chunks[partner].chunk_id, int(ranks[partner])))
        if len(versions) < 2:
            continue
        spread = [v.rank for v in versions]
        found.append(SetRankDistance(docs=tuple(sorted(members, key=str)), anchor_chunk_id=chunks[anchor].chunk_id,
                                     versions=sorted(versions, key=lambda v: v.rank),
                                     distance=max(spread) - min(spread), floor=len(versions) - 1))
    return found


def plot_rank_distances(items: Sequence[SetRankDistance], *, titles: Mapping[DocId, str] | None = None) -> Diagnostic:
    """One row per translation set: the rank of each version (log scale), joined from best to worst."""
    titles = titles or {}
    figure, axes = _new_figure(7.0, max(1.8, 0.55 * len(items) + 1.2))
    colors = _language_colors(v.lang for item in items for v in item.versions)
    for y, item in enumerate(items):
        ranks = [v.rank for v in item.versions]
        axes.plot([min(ranks), max(ranks)], [y, y], color="lightgray", zorder=1)
        for version in item.versions:
            axes.scatter(version.rank, y, color=colors[version.lang], s=40, zorder=2)
        axes.annotate(f"{item.distance}", (max(ranks), y), xytext=(6, -3), textcoords="offset points", fontsize=8)
    anchors = [next(v.doc_id for v in item.versions if v.chunk_id == item.anchor_chunk_id) for item in items]
    axes.set_yticks(range(len(items)), [_short(titles.get(doc, f"set {i + 1}")) for i, doc in enumerate(anchors)])
    axes.invert_yaxis()
    axes.set_xscale("log")
    # Ranks are whole numbers: label 1, 2, 5, 10, 20 ... as such, not as 2×10⁰ (matplotlib's
    # log-axis labels), and leave the minor ticks unlabelled.
    axes.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlabel("rank in the full ranking (log scale)")
    for lang, color in colors.items():
        axes.scatter([], [], color=color, label=language_name(lang))
    if colors:
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        axes.text(0.5, 0.5, "no translation set among the results", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()  # no ranks: an empty log axis would only show ticks
    mean = float(np.mean([item.distance for item in items])) if items else float("nan")
    explanation = (
        "Each row is one passage that exists in several translations; dots mark where each language's version "
        "ranks and the number is the rank distance (worst rank minus best rank): the best possible is the number "
        "of versions minus one (all side by side), and a large value means the search prefers some languages' "
        "versions of the same text over others."
    )
    title = f"Rank distance of translations (mean {mean:.1f})" if items else "Rank distance of translations (none among the results)"
    return Diagnostic(title, figure, explanation, list(items))


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
