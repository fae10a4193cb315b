"""Retrieval metrics from ranks: hand-computed values, and agreement with ranx on the same runs."""

from __future__ import annotations

import numpy as np
import pytest

from trainer import metrics
from trainer.evaluate import rank_relevant

INF = np.inf


@pytest.fixture
def tiny_ranks() -> np.ndarray:
    """Three queries: relevant at ranks 1 and 3; at rank 2 only; none at all."""
    return np.array([[3, 1, INF], [2, INF, INF], [INF, INF, INF]])


def test_average_precision_by_hand(tiny_ranks):
    ap = metrics.average_precision(tiny_ranks)
    # (1/1 + 2/3) / 2 and 1/2; no relevant candidate: undefined
    assert ap[0] == pytest.approx(5 / 6)
    assert ap[1] == pytest.approx(0.5)
    assert np.isnan(ap[2])


def test_recall_by_hand(tiny_ranks):
    np.testing.assert_allclose(metrics.recall_at(tiny_ranks, 1)[:2], [0.5, 0.0])
    np.testing.assert_allclose(metrics.recall_at(tiny_ranks, 3)[:2], [1.0, 1.0])
    assert np.isnan(metrics.recall_at(tiny_ranks, 1)[2])


def test_rank_distance_by_hand(tiny_ranks):
    distance = metrics.rank_distance(np.vstack([tiny_ranks, [[7, 2, 40]]]))
    assert distance[0] == 2
    assert distance[3] == 38
    assert np.isnan(distance[1])
    assert np.isnan(distance[2])


def test_rank_gap_by_hand():
    best = np.array([[2, 4, INF], [1, 5, 3]], dtype=float)  # languages 0, 1, 2
    gap = metrics.rank_gap(best, np.array([0, 2]))
    np.testing.assert_allclose(gap[0, :2], [0, 2])
    assert np.isnan(gap[0, 2])  # no relevant candidate in language 2
    np.testing.assert_allclose(gap[1], [-2, 2, 0])


def test_averages_skip_undefined():
    assert metrics.mean(np.array([1.0, np.nan, 3.0])) == 2.0
    assert np.isnan(metrics.mean(np.array([np.nan])))
    assert metrics.macro_average([0.5, float("nan"), 1.0]) == 0.75
    assert metrics.percentile(np.array([1.0, 2.0, 3.0, np.nan]), 50) == 2.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="1-based"):
        metrics.average_precision(np.array([[0.0, 2.0]]))
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.recall_at(np.array([[1.0]]), 0)
    with pytest.raises(ValueError, match="queries, slots"):
        metrics.average_precision(np.array([1.0, 2.0]))


def test_average_precision_and_recall_match_ranx():
    """Same scores, same relevance: our full-ranking AP / Recall@k equal ranx's map / recall@k."""
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(7)
    n_queries, n_candidates, dim = 40, 300, 16
    queries = rng.standard_normal((n_queries, dim)).astype(np.float32)
    candidates = rng.standard_normal((n_candidates, dim)).astype(np.float32)
    languages = rng.integers(0, 3, n_candidates)
    relevant = np.full((n_queries, 11), -1)
    for q in range(n_queries):
        k = rng.integers(1, 12)
        relevant[q, :k] = rng.choice(n_candidates, k, replace=False)
    _, pooled = rank_relevant(queries, candidates, relevant, languages, 3, chunk=16)
    scores = queries @ candidates.T

    # zero-padded ids: ranx returns per-query scores in sorted id order
    qrels = ranx.Qrels({f"q{q:03d}": {f"c{c}": 1 for c in relevant[q] if c >= 0} for q in range(n_queries)})
    # the full ranking: every candidate is in the run, as LAReQA's mAP has no cut-off
    run = ranx.Run({f"q{q:03d}": {f"c{c}": float(scores[q, c]) for c in range(n_candidates)} for q in range(n_queries)})
    theirs = ranx.evaluate(qrels, run, ["map", "recall@1", "recall@10"], return_mean=False)
    np.testing.assert_allclose(metrics.average_precision(pooled), theirs["map"], atol=1e-6)
    np.testing.assert_allclose(metrics.recall_at(pooled, 1), theirs["recall@1"], atol=1e-6)
    np.testing.assert_allclose(metrics.recall_at(pooled, 10), theirs["recall@10"], atol=1e-6)
