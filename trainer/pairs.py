"""From a data set's pairs to the rows the batch sampler draws: X-X and X-Y candidates.

``corpora`` gives pairs as they are in the data: mostly monolingual (MLQA-R: the question and its
answer sentence in one language, one group per question across languages), some already
cross-lingual (AfriQA: a Hausa question with an English passage, ``passage_lang="en"``). Within a
group every question asks for every passage (they are translations), so the group links give all
combinations: the question in X with the passage in Y, for every X and Y the group has. Those with
X == Y are the X-X candidates, the rest the X-Y candidates.

The dev split is held out **by group**, so no translation of a dev question or passage is trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from corpora.records import Benchmark, Candidate, Pair, Query


def training_pairs(pairs: Iterable[Pair]) -> list[Pair]:
    """All (question in X, passage in Y) rows of every group, X-X and X-Y, without repeats.

    Returns rows in a stable order (groups in order of first appearance, then question, then
    passage), so the sampler's batches depend only on the data and the seed.
    """
    questions: dict[str, dict[tuple[str, str], None]] = {}
    passages: dict[str, dict[tuple[str, str], None]] = {}
    for p in pairs:
        # dicts as ordered sets: first appearance wins, repeats vanish
        questions.setdefault(p.group, {})[(p.lang, p.query)] = None
        passages.setdefault(p.group, {})[(p.passage_lang, p.passage)] = None
    return [
        Pair(group, q_lang, query, passage, p_lang)
        for group, group_questions in questions.items()
        for q_lang, query in group_questions
        for p_lang, passage in passages[group]
    ]


def _pick(key: str, count: int) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) % count


HARD_NEGATIVE_SIDES = ("question", "answer")


def hard_negatives(rows: Sequence[Pair], distractors: Mapping[tuple[str, str], Sequence[str]],
                   seed: int = 0, side: str = "question") -> list[str]:
    """One hard negative per row, in the language of the row's question or of its answer (``side``).

    A distractor of the row's own group in that language (a sentence of the same paragraph or story
    that is not the answer). On the question's side, for an X-Y row it competes with the answer in Y
    by sharing the question's language and topic, the two things that let a same-language sentence
    outrank a correct translation. On the answer's side it shares the answer's language: the model
    must tell the answer from its neighbours in Y, where language gives no hint either way. X-X rows
    get the same negative on both sides. A row whose group has none in that language gets a
    distractor or passage of another group in that language.

    Raises:
        ValueError: ``side`` is neither "question" nor "answer", or no text at all in some language
            to take a negative from.
    """
    if side not in HARD_NEGATIVE_SIDES:
        raise ValueError(f"hard negatives come from the question's or the answer's side, not {side!r}")
    pool: dict[str, list[str]] = {}
    for (_, lang), texts in distractors.items():
        pool.setdefault(lang, []).extend(texts)
    own_texts: dict[str, set[str]] = {}
    for row in rows:
        pool.setdefault(row.passage_lang, []).append(row.passage)
        own_texts.setdefault(row.group, set()).update((row.passage, row.query))
    negatives = []
    for i, row in enumerate(rows):
        lang = row.lang if side == "question" else row.passage_lang
        own = distractors.get((row.group, lang)) or ()
        key = f"{seed}:{i}:{row.group}:{lang}"
        if own:
            negatives.append(own[_pick(key, len(own))])
            continue
        others = pool.get(lang) or []
        if not others:
            raise ValueError(f"no {lang} text to draw a hard negative from (group {row.group})")
        start = _pick(key, len(others))
        # another group's text: the pool holds this group's passages too, which are answers, not negatives
        choice = next((others[(start + k) % len(others)] for k in range(len(others))
                       if others[(start + k) % len(others)] not in own_texts[row.group]), None)
        if choice is None:
            raise ValueError(f"no {lang} text outside group {row.group} to draw a hard negative from")
        negatives.append(choice)
    return negatives


def _group_rank(group: str, seed: int) -> str:
    # a hash, not a shuffle of a list: a group lands on the same side whatever else is loaded
    return hashlib.sha1(f"{seed}:{group}".encode()).hexdigest()


def split_by_group(pairs: Sequence[Pair], dev_groups: int, seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """``(train, dev)``: the ``dev_groups`` groups that hash lowest under ``seed`` go to dev."""
    groups = sorted({p.group for p in pairs}, key=lambda g: _group_rank(g, seed))
    held_out = set(groups[:dev_groups])
    return [p for p in pairs if p.group not in held_out], [p for p in pairs if p.group in held_out]


def limit_groups(pairs: Sequence[Pair], limit: int | None, seed: int = 0) -> list[Pair]:
    """Keep the pairs of ``limit`` groups (a reproducible slice for quick runs); all when ``None``."""
    if limit is None:
        return list(pairs)
    kept = set(sorted({p.group for p in pairs}, key=lambda g: _group_rank(g, seed + 1))[:limit])
    return [p for p in pairs if p.group in kept]


def dev_benchmark(pairs: Sequence[Pair], name: str = "dev") -> Benchmark:
    """A multilingual retrieval task from held-out pairs: every question against every passage.

    Relevant to a question are the passages of its group, in every language (LAReQA-style).
    """
    queries: dict[tuple[str, str, str], Query] = {}
    candidates: dict[tuple[str, str, str], Candidate] = {}
    for p in pairs:
        queries.setdefault((p.group, p.lang, p.query), Query(f"q{len(queries)}", p.lang, p.query))
        candidates.setdefault((p.group, p.passage_lang, p.passage),
                              Candidate(f"c{len(candidates)}", p.passage_lang, p.passage))
    by_group: dict[str, set[str]] = {}
    for (group, _, _), c in candidates.items():
        by_group.setdefault(group, set()).add(c.id)
    relevant = {q.id: by_group[group] for (group, _, _), q in queries.items()}
    groups = {q.id: group for (group, _, _), q in queries.items()}
    return Benchmark(name, list(queries.values()), list(candidates.values()), relevant, groups)


def dev_benchmark_in_context(dev: Sequence[Pair], full: Benchmark, name: str = "dev-in-context") -> Benchmark:
    """The dev questions against every sentence of the paragraphs that hold their answers.

    ``full`` is the LAReQA benchmark of the training set (e.g. MLQA-R), whose candidate ids are
    ``c:{lang}:{article}.{paragraph}.{sentence}``. The answer sentences alone (``dev_benchmark``)
    make an easy pool that saturates within a hundred steps; their neighbouring sentences are the
    hard distractors XQuAD-R is made of, so scores here move with the things a user cares about.
    """
    dev_groups = {p.group.split(":", 1)[-1] for p in dev}
    queries = [q for q in full.queries if full.groups.get(q.id) in dev_groups]
    if not queries:
        raise ValueError(f"none of the {len(dev_groups)} dev groups is in {full.name}")
    paragraphs = {cid.rsplit(".", 1)[0] for q in queries for cid in full.relevant[q.id]}
    candidates = [c for c in full.candidates if c.id.rsplit(".", 1)[0] in paragraphs]
    relevant = {q.id: full.relevant[q.id] for q in queries}
    return Benchmark(name, queries, candidates, relevant, {q.id: full.groups[q.id] for q in queries})


def pool_benchmarks(parts: Sequence[Benchmark], name: str) -> Benchmark:
    """One task from several whose ids do not collide: queries and candidates together, each query
    relevant to what it was relevant to before, the others' candidates as extra distractors."""
    if len(parts) == 1:
        return parts[0]
    pooled = Benchmark(name, [], [], {}, {})
    for part in parts:
        pooled.queries += part.queries
        pooled.candidates += part.candidates
        pooled.relevant.update(part.relevant)
        pooled.groups.update(part.groups)
    ids = [q.id for q in pooled.queries] + [c.id for c in pooled.candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("the benchmarks share query or candidate ids; they cannot be pooled")
    return pooled
