"""Evaluate an encoder on a cross-lingual retrieval benchmark: mono / cross / multilingual settings.

Settings (LAReQA protocol, as in arXiv 2408.10536):

- monolingual: queries of language X against the candidates of X alone;
- cross-lingual: queries of X against the candidates of each other language Y on its own, averaged
  over Y, then over X;
- multilingual: queries of X against one pooled candidate set of all languages.

All three come from one pass: for each relevant candidate of each query, count how many candidates of
every language rank above it in the pooled ranking. Its rank among its own language's candidates
(mono/cross) is one plus that language's count, its pooled rank (multi, rank distance) one plus the
sum. Ties go to the earlier candidate in benchmark order, as a stable sort would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpora.records import Benchmark
from trainer import metrics
from trainer.embedding_cache import TextEncoder, cache_folder, encode_cached, model_fingerprint

DEFAULT_KS: tuple[int, ...] = (1, 10)


@dataclass
class RelevantRanks:
    """Ranks of every relevant candidate of every query; ``(queries, slots)`` arrays, padded.

    ``languages`` names the language indices; ``query_lang`` is ``(queries,)``; ``relevant_lang``
    is ``-1`` in padding slots; ``own_rank`` (rank among candidates of the relevant candidate's own
    language) and ``pooled_rank`` (rank among all candidates) are 1-based, ``inf`` in padding slots.
    """

    languages: list[str]
    query_lang: np.ndarray
    relevant_lang: np.ndarray
    own_rank: np.ndarray
    pooled_rank: np.ndarray


def _sort_keys(scores: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """int64 keys that order like ``(score, tiebreak)``: one integer comparison settles score and tie.

    The float32 bit pattern, with the non-sign bits of negatives flipped, orders like the float;
    it fills the high 32 bits, the tiebreak the low 32.
    """
    bits = (scores + np.float32(0.0)).view(np.int32)  # + 0.0 turns -0.0 into 0.0: equal scores, equal keys
    bits = np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits)
    return (bits.astype(np.int64) << 32) | tiebreak


def rank_relevant(
    query_vectors: np.ndarray,
    candidate_vectors: np.ndarray,
    relevant: np.ndarray,
    candidate_lang: np.ndarray,
    n_languages: int,
    *,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Own-language and pooled ranks of relevant candidates, scored by inner product.

    Args:
        query_vectors: ``(queries, dim)`` float32.
        candidate_vectors: ``(candidates, dim)`` float32.
        relevant: ``(queries, slots)`` candidate indices, ``-1`` for padding.
        candidate_lang: ``(candidates,)`` language index of each candidate, in ``[0, n_languages)``.
        n_languages: number of language indices.
        chunk: queries scored at once; memory is about ``chunk * slots * candidates`` bytes.

    Returns:
        ``(own_rank, pooled_rank)``, both ``(queries, slots)`` float64, 1-based, ``inf`` in padding.
    """
    n_queries, n_slots = relevant.shape
    n_candidates = len(candidate_vectors)
    if n_candidates >= 2**31:
        raise ValueError(f"at most 2**31 candidates are supported, got {n_candidates}")
    candidate_lang = np.asarray(candidate_lang, dtype=np.int64)
    # Candidates grouped by language, so each language is one contiguous slice of the score row.
    order = np.argsort(candidate_lang, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(n_candidates)
    bounds = np.searchsorted(candidate_lang[order], np.arange(n_languages + 1))
    grouped = np.ascontiguousarray(candidate_vectors[order], dtype=np.float32)
    tiebreak = (n_candidates - 1 - order).astype(np.int64)  # the earlier candidate wins a tie

    own = np.full((n_queries, n_slots), np.inf)
    pooled = np.full((n_queries, n_slots), np.inf)
    valid = relevant >= 0
    safe = np.where(valid, relevant, 0)
    for start in range(0, n_queries, chunk):
        rows = slice(start, start + chunk)
        keys = _sort_keys(np.asarray(query_vectors[rows], dtype=np.float32) @ grouped.T, tiebreak)  # (b, N)
        relevant_keys = np.take_along_axis(keys, position[safe[rows]], axis=1)  # (b, slots)
        above = np.empty(relevant_keys.shape + (n_languages,), dtype=np.int64)  # (b, slots, languages)
        for lang in range(n_languages):
            segment = keys[:, None, bounds[lang]:bounds[lang + 1]]  # (b, 1, N_lang)
            above[:, :, lang] = np.count_nonzero(segment > relevant_keys[:, :, None], axis=-1)
        own_above = np.take_along_axis(above, candidate_lang[safe[rows]][:, :, None], axis=2)[:, :, 0]
        own[rows] = np.where(valid[rows], own_above + 1, np.inf)
        pooled[rows] = np.where(valid[rows], above.sum(axis=2) + 1, np.inf)
    return own, pooled


def index_benchmark(benchmark: Benchmark) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int]:
    """The benchmark as arrays: ``(languages, query_lang, candidate_lang, relevant, unknown)``.

    ``query_lang`` ``(queries,)`` and ``candidate_lang`` ``(candidates,)`` index ``languages``;
    ``relevant`` is ``(queries, slots)`` candidate indices padded with ``-1``; ``unknown`` counts
    relevant ids that name no candidate (left out).
    """
    languages = benchmark.languages
    lang_index = {lang: i for i, lang in enumerate(languages)}
    candidate_index = {c.id: i for i, c in enumerate(benchmark.candidates)}
    if len(candidate_index) != len(benchmark.candidates):
        raise ValueError(f"benchmark {benchmark.name!r} has duplicate candidate ids")
    unknown = 0
    rows: list[list[int]] = []
    for query in benchmark.queries:
        ids = benchmark.relevant.get(query.id, set())
        known = sorted(candidate_index[i] for i in ids if i in candidate_index)
        unknown += len(ids) - len(known)
        rows.append(known)
    width = max((len(r) for r in rows), default=0) or 1
    relevant = np.full((len(rows), width), -1, dtype=np.int64)
    for q, row in enumerate(rows):
        relevant[q, : len(row)] = row
    query_lang = np.array([lang_index[q.lang] for q in benchmark.queries], dtype=np.int64)
    candidate_lang = np.array([lang_index[c.lang] for c in benchmark.candidates], dtype=np.int64)
    return languages, query_lang, candidate_lang, relevant, unknown


def rank_benchmark(benchmark: Benchmark, query_vectors: np.ndarray, candidate_vectors: np.ndarray) -> RelevantRanks:
    """Rank every relevant candidate of ``benchmark`` given its embeddings (rows in benchmark order)."""
    languages, query_lang, candidate_lang, relevant, _ = index_benchmark(benchmark)
    own, pooled = rank_relevant(query_vectors, candidate_vectors, relevant, candidate_lang, len(languages))
    relevant_lang = np.where(relevant >= 0, candidate_lang[np.where(relevant >= 0, relevant, 0)], -1)
    return RelevantRanks(languages, query_lang, relevant_lang, own, pooled)


def _clean(value: float) -> float | None:
    """JSON has no NaN: undefined numbers become ``null``."""
    return None if value is None or math.isnan(value) else float(value)


def _setting_scores(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, np.ndarray]:
    scores = {"map": metrics.average_precision(ranks)}
    for k in ks:
        scores[f"recall_at_{k}"] = metrics.recall_at(ranks, k)
    return scores


def score(ranks: RelevantRanks, ks: Sequence[int] = DEFAULT_KS) -> dict:
    """Every metric, per language pair, per query language and summarised (JSON-ready, ``null`` = undefined).

    Returns:
        ``{"summary": {...}, "languages": {X: {...}}, "pairs": {X: {Y: {...}}}}`` where X is a query
        language and Y a candidate language. ``summary`` holds ``map_mono``, ``map_cross``,
        ``map_multi``, ``recall_at_{k}_{setting}``, ``rank_distance`` (macro mean over query
        languages) and its robust companions ``rank_distance_median`` / ``rank_distance_p90`` (over
        all queries) and ``mean_rank_gap`` (macro mean over language pairs X != Y).
    """
    langs = ranks.languages
    candidate_langs = sorted({int(y) for y in np.unique(ranks.relevant_lang) if y >= 0})
    measures = ["map", *(f"recall_at_{k}" for k in ks)]

    multi = _setting_scores(ranks.pooled_rank, ks)
    distance = metrics.rank_distance(ranks.pooled_rank)
    best = np.full((len(ranks.query_lang), len(langs)), np.inf)  # best pooled rank per candidate language
    for y in candidate_langs:
        best[:, y] = np.where(ranks.relevant_lang == y, ranks.pooled_rank, np.inf).min(axis=1)
    gap = metrics.rank_gap(best, ranks.query_lang)

    pairs: dict[str, dict[str, dict]] = {}
    per_lang: dict[str, dict] = {}
    for x in sorted({int(x) for x in np.unique(ranks.query_lang)}):
        of_x = ranks.query_lang == x
        pairs[langs[x]] = {}
        for y in candidate_langs:
            pair_ranks = np.where(ranks.relevant_lang[of_x] == y, ranks.own_rank[of_x], np.inf)
            scored = metrics.relevant_counts(pair_ranks) > 0
            if not scored.any():
                continue
            values = _setting_scores(pair_ranks[scored], ks)
            pairs[langs[x]][langs[y]] = {
                **{m: _clean(metrics.mean(values[m])) for m in measures},
                "mean_rank_gap": _clean(metrics.mean(gap[of_x, y])) if y != x else None,
                "queries": int(scored.sum()),
            }
        mono = pairs[langs[x]].get(langs[x], {})
        cross = [v for y, v in pairs[langs[x]].items() if y != langs[x]]
        entry: dict[str, float | int | None] = {"queries": int(of_x.sum())}
        for m in measures:
            entry[f"{m}_mono"] = mono.get(m)
            entry[f"{m}_cross"] = _clean(metrics.macro_average(v[m] for v in cross if v[m] is not None))
            entry[f"{m}_multi"] = _clean(metrics.mean(multi[m][of_x]))
        entry["rank_distance"] = _clean(metrics.mean(distance[of_x]))
        entry["rank_distance_median"] = _clean(metrics.percentile(distance[of_x], 50))
        entry["rank_distance_p90"] = _clean(metrics.percentile(distance[of_x], 90))
        per_lang[langs[x]] = entry

    # How far each candidate language sits below the query language, over the other query languages.
    for y in candidate_langs:
        gaps = [pairs[x][langs[y]]["mean_rank_gap"] for x in pairs if x != langs[y] and langs[y] in pairs[x]]
        per_lang.setdefault(langs[y], {"queries": 0})["mean_rank_gap_as_candidate"] = _clean(
            metrics.macro_average(g for g in gaps if g is not None))

    def macro(key: str) -> float | None:
        return _clean(metrics.macro_average(v[key] for v in per_lang.values() if v.get(key) is not None))

    summary: dict[str, float | None] = {}
    for m in measures:
        for setting in ("mono", "cross", "multi"):
            summary[f"{m}_{setting}"] = macro(f"{m}_{setting}")
    summary["rank_distance"] = macro("rank_distance")
    summary["rank_distance_median"] = _clean(metrics.percentile(distance, 50))
    summary["rank_distance_p90"] = _clean(metrics.percentile(distance, 90))
    off_diagonal = [v["mean_rank_gap"] for x in pairs.values() for v in x.values() if v["mean_rank_gap"] is not None]
    summary["mean_rank_gap"] = _clean(metrics.macro_average(off_diagonal))
    return {"summary": summary, "languages": per_lang, "pairs": pairs}


def embed_benchmark(
    model: TextEncoder,
    benchmark: Benchmark,
    *,
    cache_root: Path | None,
    model_key: str | None = None,
    batch_size: int = 32,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Query and candidate embeddings of ``benchmark`` (benchmark order), through the on-disk cache.

    ``model_key`` names the model in the cache; by default it is the hash of the model's weights.
    ``cache_root=None`` encodes everything and caches nothing.
    """
    folder = None
    if cache_root is not None:
        folder = cache_folder(cache_root, model_key or model_fingerprint(model), benchmark.name)
    started = time.perf_counter()
    queries, encoded_q = encode_cached(model, [q.text for q in benchmark.queries], "query",
                                       folder=folder, batch_size=batch_size, progress=progress)
    candidates, encoded_c = encode_cached(model, [c.text for c in benchmark.candidates], "passage",
                                          folder=folder, batch_size=batch_size, progress=progress)
    info = {"encode_s": round(time.perf_counter() - started, 3), "encoded": encoded_q + encoded_c,
            "cache": str(folder) if folder is not None else None}
    return queries, candidates, info


def evaluate(
    model: TextEncoder,
    benchmark: Benchmark,
    *,
    cache_root: Path | None = None,
    model_key: str | None = None,
    batch_size: int = 32,
    ks: Sequence[int] = DEFAULT_KS,
    progress: bool = False,
) -> dict:
    """Embed (through the cache), rank and score ``benchmark``; the result is JSON-ready.

    Returns:
        :func:`score`'s dictionary plus ``benchmark`` (name), ``languages``' sizes in ``counts`` and
        ``timing`` (``encode_s``, ``score_s``, ``encoded``: texts encoded now rather than read from cache).

    Example::

        >>> from trainer.encoder import load_encoder
        >>> from corpora import load_benchmark
        >>> result = evaluate(load_encoder(), load_benchmark("xquad-r", limit=50), cache_root=Path("/tmp/c"))
        >>> sorted(result["summary"])[:3]
        ['map_cross', 'map_mono', 'map_multi']
    """
    queries, candidates, timing = embed_benchmark(model, benchmark, cache_root=cache_root, model_key=model_key,
                                                  batch_size=batch_size, progress=progress)
    started = time.perf_counter()
    languages, _, _, relevant, unknown = index_benchmark(benchmark)
    result = score(rank_benchmark(benchmark, queries, candidates), ks)
    timing["score_s"] = round(time.perf_counter() - started, 3)
    counts = {
        "queries": len(benchmark.queries),
        "candidates": len(benchmark.candidates),
        "relevant": int((relevant >= 0).sum()),
        "relevant_unknown": unknown,
        "queries_per_language": {lang: len(benchmark.queries_in(lang)) for lang in languages},
        "candidates_per_language": {lang: len(benchmark.candidates_in(lang)) for lang in languages},
    }
    return {"benchmark": benchmark.name, "counts": counts, **result, "timing": timing}
