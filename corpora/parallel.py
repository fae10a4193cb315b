"""Benchmarks from parallel units: one unit holds the same text (or question and answer) in many languages.

The constitutions (article k), MILPaC (question/answer item), NTREX (line k) and a user's
``parallel`` JSONL lines all reduce to a list of ``ParallelUnit``. The query in language A of a unit
is relevant to that unit's candidate in *every* language, A included: LAReQA's rule (the
same-language answer is in the pool and relevant), which lets rank distance see how far below the
same-language hit the translations fall. For bitext units (query text = candidate text) the
same-language candidate is the query's own text, so monolingual scores are trivially high there;
the cross-lingual and multilingual figures are the informative ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from corpora.languages import UnknownLanguage, normalize_code
from corpora.records import Benchmark, Candidate, Query


@dataclass(frozen=True)
class ParallelUnit:
    """``queries[lang]`` and ``candidates[lang]`` are texts; ``group`` must be unique in a benchmark."""

    group: str
    queries: dict[str, str]
    candidates: dict[str, str]


def select_langs(requested: Iterable[str] | None, available: Iterable[str], set_name: str) -> list[str]:
    """Our codes of ``requested`` (all of ``available`` when ``None``), in ``available``'s order.

    Raises:
        ValueError: a requested language is unknown or not in the set (names the valid ones).
    """
    available = list(dict.fromkeys(available))
    if requested is None:
        return available
    wanted: list[str] = []
    for code in requested:
        try:
            ours = normalize_code(code)
        except UnknownLanguage:
            ours = code
        if ours not in available:
            raise ValueError(f"language {code!r} is not in {set_name}; valid: {', '.join(available)}")
        wanted.append(ours)
    return [lang for lang in available if lang in wanted]


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of queries per language, got {limit}")


def first_groups_per_lang(
    groups_by_lang: dict[str, Sequence[str]], limit: int | None
) -> dict[str, set[str]]:
    """The first ``limit`` groups of each language (all when ``limit`` is None), in the given order."""
    return {lang: set(groups if limit is None else groups[:limit]) for lang, groups in groups_by_lang.items()}


def parallel_benchmark(
    name: str,
    units: Sequence[ParallelUnit],
    *,
    langs: Iterable[str] | None = None,
    limit: int | None = None,
) -> Benchmark:
    """Build a benchmark: query ``q:{lang}:{group}``, candidate ``c:{lang}:{group}``.

    ``limit`` keeps, per language, the queries of the first ``limit`` units that have that language;
    the candidates are those of every unit kept by some language, so each kept query still finds
    all its relevant candidates and the pool shrinks with it. The queries of one unit share one
    ``relevant`` set object: treat it as read-only.
    """
    check_limit(limit)
    available = sorted({lang for u in units for lang in (*u.queries, *u.candidates)})
    chosen = select_langs(langs, available, name)
    order: dict[str, list[str]] = {lang: [] for lang in chosen}
    for unit in units:
        for lang in chosen:
            if unit.queries.get(lang):
                order[lang].append(unit.group)
    kept = first_groups_per_lang(order, limit)
    kept_any = set().union(*kept.values()) if kept else set()

    queries: list[Query] = []
    candidates: list[Candidate] = []
    relevant: dict[str, set[str]] = {}
    groups: dict[str, str] = {}
    for unit in units:
        if unit.group not in kept_any:
            continue
        unit_candidates = {f"c:{lang}:{unit.group}" for lang in chosen if unit.candidates.get(lang)}
        for lang in chosen:
            if unit.candidates.get(lang):
                candidates.append(Candidate(f"c:{lang}:{unit.group}", lang, unit.candidates[lang]))
        if not unit_candidates:
            continue
        for lang in chosen:
            if unit.group in kept[lang] and unit.queries.get(lang):
                qid = f"q:{lang}:{unit.group}"
                queries.append(Query(qid, lang, unit.queries[lang]))
                # One set object per unit, shared by its queries: NTREX has 53 queries per unit,
                # and 105,841 separate 53-element sets would cost seconds and hundreds of MB.
                relevant[qid] = unit_candidates
                groups[qid] = unit.group
    return Benchmark(name, queries, candidates, relevant, groups)
