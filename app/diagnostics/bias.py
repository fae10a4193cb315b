"""Diagnostic 3: the corpus's language x language bias matrix, from its own aligned chunks used as
queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np

from app.diagnostics.alignment import MIN_MARGIN, aligned_pairs
from app.diagnostics.common import ChunkInfo, Diagnostic, DocId, QueryEncoder, _new_figure, _rows_by_doc
from corpora.languages import language_name

QUERY_CHARS = 300
"""Characters of a chunk used as a query for the bias matrix: a query is short, and encoding a
300-character prefix instead of a 256-token chunk keeps the matrix to seconds on CPU."""

MAX_QUERIES_PER_LANGUAGE = 16
"""Query chunks per language for the bias matrix (evenly spaced over the aligned chunks). Encoding
is the cost, about 0.05 CPU-seconds per query: the demo library's 55 aligned chunks take 2.5
CPU-seconds, 153 queries of a 481-chunk corpus in 13 languages 7 s wall on a busy 2-core machine."""


@dataclass
class ParallelQuery:
    """A chunk used as a query and its parallel chunks (rows), itself included."""

    row: int
    relevant: list[int]


def parallel_queries(
    embeddings: np.ndarray,
    chunks: Sequence[ChunkInfo],
    translation_sets: Iterable[Iterable[DocId]],
    *,
    min_margin: float = MIN_MARGIN,
) -> list[ParallelQuery]:
    """Aligned chunks of the translation sets, one query per chunk with a partner in another language.

    Chunk i of document A is parallel to chunk j of document B (same set) when they are each other's
    best match and the pair stands out from the documents' other pairings (``aligned_pairs``); unlike the rank-distance chart, a chunk without a mutual
    partner in B gets none there, so every relevant pair is a real translation.
    """
    chunks = [ChunkInfo(*c) for c in chunks]
    embeddings = np.asarray(embeddings, dtype=np.float32)
    rows_by_doc = _rows_by_doc(chunks)
    partners: dict[int, set[int]] = {}
    for members in translation_sets:
        docs = sorted((d for d in set(members) if d in rows_by_doc), key=str)
        for position, a in enumerate(docs):
            for b in docs[position + 1:]:
                rows_a, rows_b = rows_by_doc[a], rows_by_doc[b]
                for i, j, _ in aligned_pairs(embeddings[rows_a], embeddings[rows_b], min_margin=min_margin):
                    partners.setdefault(int(rows_a[i]), set()).add(int(rows_b[j]))
                    partners.setdefault(int(rows_b[j]), set()).add(int(rows_a[i]))
    return [ParallelQuery(row, sorted({row} | others)) for row, others in sorted(partners.items())
            if any(chunks[o].lang != chunks[row].lang for o in others)]


@dataclass
class BiasMatrix:
    """Mean rank gap per (query language X, text language Y); rows X, columns Y, both ``languages``.

    ``gap[x, y]``: over queries in X, the mean of (rank of the best parallel text in Y) minus (rank of
    the best parallel text in X), where a rank counts only unrelated chunks above it, so translations
    never push each other down: 0 on the diagonal by definition, 0 everywhere for an encoder without
    language bias, positive where Y falls below X. ``nan`` where no query in X has a parallel text in Y.
    ``counts[x, y]`` is the number of queries behind each cell.
    """

    languages: list[str]
    gap: np.ndarray
    counts: np.ndarray

    def off_diagonal_mean(self) -> float:
        """Mean over the defined cells off the diagonal (each language pair weighs the same)."""
        mask = ~np.eye(len(self.languages), dtype=bool) & (self.counts > 0)
        return float(self.gap[mask].mean()) if mask.any() else float("nan")


def bias_matrix(
    query_vectors: np.ndarray,
    query_langs: Sequence[str],
    candidate_vectors: np.ndarray,
    candidate_langs: Sequence[str],
    relevant: Sequence[Sequence[int]],
) -> BiasMatrix:
    """The language x language rank-gap matrix from queries with known parallel candidates.

    Args:
        query_vectors: ``(queries, dim)`` query embeddings.
        query_langs: language of each query.
        candidate_vectors: ``(candidates, dim)`` candidate embeddings (scored by inner product).
        candidate_langs: language of each candidate.
        relevant: per query, the candidate rows that are parallel to it (in any language).

    Returns:
        ``BiasMatrix`` over the sorted languages of queries and relevant candidates. Ties count in the
        relevant candidate's favour.
    """
    from trainer.metrics import rank_gap

    query_vectors = np.asarray(query_vectors, dtype=np.float32)
    candidate_vectors = np.asarray(candidate_vectors, dtype=np.float32)
    if not len(query_vectors) == len(query_langs) == len(relevant):
        raise ValueError(f"{len(query_vectors)} query vectors, {len(query_langs)} query languages and "
                         f"{len(relevant)} relevant lists must be equally many")
    if len(candidate_vectors) != len(candidate_langs):
        raise ValueError(f"{len(candidate_vectors)} candidate vectors but {len(candidate_langs)} candidate languages")
    languages = sorted(set(query_langs) | {candidate_langs[r] for rows in relevant for r in rows})
    index = {lang: i for i, lang in enumerate(languages)}
    candidate_lang = np.array([index.get(lang, -1) for lang in candidate_langs], dtype=np.int64)
    n_lang = len(languages)
    total, counts = np.zeros((n_lang, n_lang)), np.zeros((n_lang, n_lang), dtype=np.int64)
    scores = query_vectors @ candidate_vectors.T  # (queries, candidates): hundreds x hundreds here
    for q, rows in enumerate(relevant):
        rows = np.asarray(rows, dtype=np.int64)
        unrelated = np.ones(len(candidate_vectors), dtype=bool)
        unrelated[rows] = False
        others = np.sort(scores[q, unrelated])
        above = len(others) - np.searchsorted(others, scores[q, rows], side="right")  # unrelated chunks above
        best = np.full(n_lang, np.inf)
        np.minimum.at(best, candidate_lang[rows], above + 1.0)
        x = index[query_langs[q]]
        gap = rank_gap(best[None, :], np.array([x]))[0]
        defined = ~np.isnan(gap)
        total[x, defined] += gap[defined]
        counts[x, defined] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return BiasMatrix(languages=languages, gap=gap, counts=counts)


def select_queries(queries: Sequence[ParallelQuery], langs: Sequence[str], per_language: int) -> list[ParallelQuery]:
    """At most ``per_language`` queries per language, evenly spaced (deterministic)."""
    by_lang: dict[str, list[ParallelQuery]] = {}
    for query in queries:
        by_lang.setdefault(langs[query.row], []).append(query)
    chosen = []
    for lang in sorted(by_lang):
        group = by_lang[lang]
        picks = np.unique(np.linspace(0, len(group) - 1, num=min(per_language, len(group))).round().astype(int))
        chosen += [group[i] for i in picks]
    return sorted(chosen, key=lambda q: q.row)


def corpus_bias_matrix(
    encoder: QueryEncoder,
    texts: Sequence[str] | Callable[[list[int]], Sequence[str]],
    embeddings: np.ndarray,
    chunks: Sequence[ChunkInfo],
    translation_sets: Iterable[Iterable[DocId]],
    *,
    per_language: int = MAX_QUERIES_PER_LANGUAGE,
    query_chars: int = QUERY_CHARS,
    batch_size: int = 32,
) -> BiasMatrix:
    """The corpus's own bias matrix: its aligned chunks as queries against all its chunks.

    Each aligned chunk (``parallel_queries``) is cut to ``query_chars`` characters and encoded once
    with the query prompt (one batched call); the candidates are the stored passage ``embeddings``,
    so nothing else is encoded. About 5 s for 40 queries per language in 4 languages on 2 CPU cores.

    Args:
        encoder: anything with ``encode_query`` (the model that made ``embeddings``).
        texts: chunk text per row of ``chunks``, or a function from chunk ids to their texts (so a
            large store reads only the query chunks).
        embeddings: ``(chunks, dim)`` stored passage embeddings.
        chunks: ``ChunkInfo`` per row.
        translation_sets: document id groups (user-marked, or from ``detect_translation_sets``).
        per_language: cap on query chunks per language (see ``MAX_QUERIES_PER_LANGUAGE``).
        query_chars: characters of each chunk used as the query (see ``QUERY_CHARS``).
        batch_size: encoder batch size.
    """
    chunks = [ChunkInfo(*c) for c in chunks]
    if len(chunks) != len(embeddings) or (not callable(texts) and len(texts) != len(chunks)):
        raise ValueError(f"{len(chunks)} chunks, {len(embeddings)} embedding rows and the texts must be equally many")
    langs = [c.lang for c in chunks]
    queries = select_queries(parallel_queries(embeddings, chunks, translation_sets), langs, per_language)
    if not queries:
        return BiasMatrix(languages=[], gap=np.zeros((0, 0)), counts=np.zeros((0, 0), dtype=np.int64))
    if callable(texts):
        query_texts = list(texts([chunks[q.row].chunk_id for q in queries]))
    else:
        query_texts = [texts[q.row] for q in queries]
    vectors = encoder.encode_query([text[:query_chars] for text in query_texts], batch_size=batch_size)
    return bias_matrix(np.asarray(vectors), [langs[q.row] for q in queries], embeddings, langs,
                       [q.relevant for q in queries])


def plot_bias_matrix(matrix: BiasMatrix) -> Diagnostic:
    """Heatmap of the mean rank gap, query language in rows, language of the relevant text in columns."""
    n = len(matrix.languages)
    figure, axes = _new_figure(max(3.5, 0.75 * n + 2.2), max(3.0, 0.65 * n + 1.6))
    names = [language_name(lang) for lang in matrix.languages]
    if n:
        finite = matrix.gap[np.isfinite(matrix.gap)]
        limit = max(1.0, float(np.abs(finite).max()) if finite.size else 1.0)
        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#dddddd")
        image = axes.imshow(np.ma.masked_invalid(matrix.gap), cmap=cmap, vmin=-limit, vmax=limit)
        for x in range(n):
            for y in range(n):
                value = matrix.gap[x, y]
                axes.text(y, x, "–" if np.isnan(value) else f"{value:.1f}", ha="center", va="center", fontsize=8,
                          color="white" if np.isfinite(value) and abs(value) > 0.6 * limit else "black")
        figure.colorbar(image, ax=axes, label="mean rank gap", shrink=0.8)
        axes.set_xticks(range(n), names, rotation=40, ha="right")
        axes.set_yticks(range(n), names)
    else:
        axes.text(0.5, 0.5, "no aligned translations in the library", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
    axes.set_xlabel("language of the relevant text (Y)")
    axes.set_ylabel("query language (X)")
    mean = matrix.off_diagonal_mean()
    explanation = (
        "Each cell shows, for a query in the row's language, how many more unrelated passages on average rank "
        "above the column language's translation of the relevant text than above the query language's own "
        "version: 0 everywhere is ideal (no language bias), and large values in a row mean queries in that "
        "language mostly surface text in their own language."
    )
    title = "Language bias of the library (mean rank gap"
    title += f" off the diagonal {mean:.1f})" if np.isfinite(mean) else ")"
    return Diagnostic(title, figure, explanation, matrix)
