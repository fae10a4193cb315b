"""Retrieval metrics from the ranks of relevant candidates (pure numpy).

Every function takes ``ranks``: a ``(queries, slots)`` float array holding the 1-based rank of each
relevant candidate of a query in the ranking of one candidate set, padded with ``np.inf`` where a
query has fewer relevant candidates than ``slots``. Working from ranks rather than scores keeps the
metrics independent of how the ranking was made (see ``trainer.evaluate`` for the vectorised one).
Queries with no relevant candidate get ``nan``, which the averages skip.

Definitions (LAReQA, Roy et al. 2020; Hybrid batches, arXiv 2408.10536):

- average precision over the *full* ranking: ``AP = (1/m) * sum_i i / rank_i`` over the m relevant
  candidates sorted by rank (no cut-off, so a relevant candidate at rank 5,000 still counts);
- Recall@k: the share of a query's relevant candidates ranked in the top k;
- rank distance: ``max rank - min rank`` of a query's relevant candidates in the pooled ranking.
  One relevant candidate has no spread: such queries get ``nan``;
- rank gap of language Y to the query language X: best rank of a relevant Y candidate minus best
  rank of a relevant X candidate in the pooled ranking (positive: Y sits below the query language).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check(ranks: np.ndarray) -> np.ndarray:
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.ndim != 2:
        raise ValueError(f"ranks must be a (queries, slots) array, got shape {ranks.shape}")
    finite = ranks[np.isfinite(ranks)]
    if finite.size and finite.min() < 1:
        raise ValueError(f"ranks are 1-based; got a rank of {finite.min()}")
    return ranks


def relevant_counts(ranks: np.ndarray) -> np.ndarray:
    """Number of relevant candidates per query, shape ``(queries,)``."""
    return np.isfinite(_check(ranks)).sum(axis=1)


def average_precision(ranks: np.ndarray) -> np.ndarray:
    """Average precision over the full ranking per query, shape ``(queries,)``; ``nan`` without relevants."""
    ranks = np.sort(_check(ranks), axis=1)  # inf padding sorts last
    m = np.isfinite(ranks).sum(axis=1)
    position = np.arange(1, ranks.shape[1] + 1, dtype=np.float64)
    precision = np.where(np.isfinite(ranks), position / ranks, 0.0)  # i / rank_i; the padding adds nothing
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m > 0, precision.sum(axis=1) / m, np.nan)


def recall_at(ranks: np.ndarray, k: int) -> np.ndarray:
    """Share of each query's relevant candidates in the top ``k``, shape ``(queries,)``; ``nan`` without relevants."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranks = _check(ranks)
    m = np.isfinite(ranks).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m > 0, (ranks <= k).sum(axis=1) / m, np.nan)


def rank_distance(ranks: np.ndarray) -> np.ndarray:
    """``max - min`` rank of each query's relevant candidates, shape ``(queries,)``; ``nan`` below two relevants."""
    ranks = _check(ranks)
    m = np.isfinite(ranks).sum(axis=1)
    best = np.min(ranks, axis=1, initial=np.inf)
    worst = np.max(np.where(np.isfinite(ranks), ranks, -np.inf), axis=1, initial=-np.inf)
    with np.errstate(invalid="ignore"):
        return np.where(m >= 2, worst - best, np.nan)


def rank_gap(best_ranks: np.ndarray, query_lang: np.ndarray) -> np.ndarray:
    """Rank gap of every candidate language to each query's own language.

    Args:
        best_ranks: ``(queries, languages)``, best pooled rank of a relevant candidate of each
            language (``inf`` where the query has none in that language).
        query_lang: ``(queries,)`` column index of each query's own language.

    Returns:
        ``(queries, languages)``: ``best_ranks[q, y] - best_ranks[q, query_lang[q]]``; ``nan`` where
        either side has no relevant candidate (0 on the query's own language).
    """
    best_ranks = np.asarray(best_ranks, dtype=np.float64)
    own = best_ranks[np.arange(len(best_ranks)), np.asarray(query_lang)]
    with np.errstate(invalid="ignore"):  # inf - inf where both sides lack a relevant candidate
        gap = best_ranks - own[:, None]
    return np.where(np.isfinite(best_ranks) & np.isfinite(own)[:, None], gap, np.nan)


def mean(values: np.ndarray) -> float:
    """Mean of the defined (non-``nan``) values; ``nan`` when there are none."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def percentile(values: np.ndarray, q: float) -> float:
    """``q``-th percentile (linear interpolation) of the defined values; ``nan`` when there are none."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(np.percentile(values, q)) if values.size else float("nan")


def macro_average(values: Sequence[float]) -> float:
    """Unweighted mean over groups (languages, language pairs), skipping undefined ones."""
    return mean(np.asarray(list(values), dtype=np.float64))
