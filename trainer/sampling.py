"""The three batch policies of hybrid-batch training (arXiv 2408.10536) as one batch sampler.

A batch is either **X-X** (every query and passage in one language X) or **X-Y** (queries in one
language X, each with its passage in another language Y != X; Y may differ from pair to pair).
Policy ``xx`` makes only X-X batches, ``xy`` only X-Y batches, ``hybrid`` an X-X batch with
probability ``alpha`` and an X-Y batch otherwise. The language X is drawn per batch, uniformly over
the languages that have pairs of the batch's kind (``weighting="uniform"``), in proportion to
their number of pairs (``weighting="size"``), or data set first and then language (``weighting="set"``:
each data set of a mixture that has pairs of the batch's kind gets an equal share of those batches
whatever its number of languages, and its languages share it equally; a batch then holds pairs of
one set. A pure policy refuses a set without pairs of its kind, as it refuses such a language). No batch holds two pairs
of the same ``group``: their passages are translations of each other, so each would be a false
negative for the other.

The sampler works on rows that are :class:`corpora.records.Pair` objects, whose kind is read from
``lang`` vs ``passage_lang``; :func:`trainer.pairs.training_pairs` turns a data set's pairs into
such rows (X-X and X-Y) through the group links.

**Epoch.** One epoch is ``ceil(Q / batch_size)`` batches (``floor`` with ``drop_last``), where Q is
the number of distinct questions, i.e. ``(group, query language)``, among the rows: an epoch draws
as many pairs as the training set has questions. Within an epoch each (kind, language) pool is
drawn without replacement in a shuffled order and reshuffled when it runs out, so a small language
is seen more than once per epoch under uniform weighting, and a large one may not be seen in full.
Every batch is full. The batch sequence is a pure function of ``seed + epoch`` (``set_epoch``),
which is what makes resuming from a checkpoint and multi-process training (every process walks
the same sequence and keeps its share) exact.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sentence_transformers.base.sampler import DefaultBatchSampler

from corpora.records import Pair
from trainer.errors import TrainerError

POLICIES = ("xx", "xy", "hybrid")
WEIGHTINGS = ("uniform", "size", "set")
KINDS = ("xx", "xy")
LABELS = {"xx": "X-X", "xy": "X-Y"}


class BatchPolicyError(TrainerError, ValueError):
    """The policy cannot be applied to these pairs (or its settings are invalid)."""


@dataclass(frozen=True)
class BatchPolicy:
    """How batches are composed.

    Args:
        name: ``xx``, ``xy`` or ``hybrid``.
        alpha: probability of an X-X batch under ``hybrid``, in [0, 1]; ignored otherwise.
        weighting: ``uniform`` (each language equally often), ``size`` (by number of pairs) or
            ``set`` (each data set equally often, then its languages equally; needs the rows' sources).
    """

    name: str = "hybrid"
    alpha: float = 0.5
    weighting: str = "uniform"

    def __post_init__(self) -> None:
        if self.name not in POLICIES:
            raise BatchPolicyError(f"unknown policy {self.name!r}; valid: {', '.join(POLICIES)}")
        if not (0.0 <= self.alpha <= 1.0) or math.isnan(self.alpha):
            raise BatchPolicyError(f"alpha must be in [0, 1], got {self.alpha}")
        if self.weighting not in WEIGHTINGS:
            raise BatchPolicyError(f"unknown weighting {self.weighting!r}; valid: {', '.join(WEIGHTINGS)}")

    @property
    def xx_probability(self) -> float:
        return {"xx": 1.0, "xy": 0.0, "hybrid": self.alpha}[self.name]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The batch kinds this policy draws."""
        p = self.xx_probability
        return tuple(k for k, used in (("xx", p > 0), ("xy", p < 1)) if used)


def kind_of(pair: Pair) -> str:
    return "xx" if pair.lang == pair.passage_lang else "xy"


class _Pool:
    """The rows of one (kind, language), drawn in shuffled passes without replacement."""

    def __init__(self, indices: np.ndarray, groups: np.ndarray) -> None:
        self.indices = indices
        self.groups = groups  # group id per dataset row (shared by all pools)
        self.queue: deque[int] = deque()

    def take(self, n: int, rng: np.random.Generator) -> list[int]:
        batch: list[int] = []
        seen: set[int] = set()
        skipped: list[int] = []  # rows whose group is already in the batch; they go back to the front
        refills = 0
        while len(batch) < n:
            if not self.queue:
                refills += 1
                # two passes always suffice: the pool was checked to hold >= n distinct groups
                assert refills <= 2, "pool has fewer distinct groups than the batch size"
                self.queue.extend(rng.permutation(self.indices).tolist())
            row = self.queue.popleft()
            group = self.groups[row]
            if group in seen:
                skipped.append(row)
            else:
                seen.add(group)
                batch.append(row)
        self.queue.extendleft(reversed(skipped))
        return batch


class HybridBatchSampler(DefaultBatchSampler):
    """Batch sampler for the ``xx`` / ``xy`` / ``hybrid`` policies; see the module docstring.

    It keeps the signature of sentence-transformers' ``DefaultBatchSampler``, so the trainer can
    build it (pass ``functools.partial(HybridBatchSampler, pairs=rows, policy=policy)`` as
    ``batch_sampler`` in ``SentenceTransformerTrainingArguments``), and it is a plain torch
    ``BatchSampler`` for a ``DataLoader`` of one's own.

    Args:
        dataset: the rows (a ``datasets.Dataset`` of anchor/positive texts or any sized sequence);
            row i of ``dataset`` is described by ``pairs[i]``.
        batch_size: pairs per batch.
        drop_last: an epoch is ``floor`` instead of ``ceil`` of questions / batch_size batches.
        valid_label_columns: unused (kept for the trainer's signature).
        generator: unused; the sampler seeds its own generator with ``seed + epoch``.
        seed: base seed.
        pairs: the :class:`Pair` of each row; default: ``dataset`` itself must hold ``Pair`` rows.
        policy: a :class:`BatchPolicy` (default ``hybrid``, alpha 0.5, uniform weighting).
        sources: the data set of each row; read only by ``weighting="set"``, which requires it.

    Raises:
        BatchPolicyError: a kind the policy needs is missing, a language has no pairs the policy
            can use, or a (kind, language) pool has fewer groups than ``batch_size``.

    Example::

        >>> sampler = HybridBatchSampler(rows, batch_size=32, drop_last=False, seed=1,
        ...                              policy=BatchPolicy("hybrid", alpha=0.5))
        >>> loader = DataLoader(rows, batch_sampler=sampler, collate_fn=list)
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        drop_last: bool = False,
        valid_label_columns: list[str] | None = None,
        generator: torch.Generator | None = None,
        seed: int = 0,
        *,
        pairs: Sequence[Pair] | None = None,
        policy: BatchPolicy | None = None,
        sources: Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            dataset,
            batch_size=batch_size,
            drop_last=drop_last,
            valid_label_columns=valid_label_columns,
            generator=generator,
            seed=seed,
        )
        self.policy = policy or BatchPolicy()
        self.pairs = list(dataset if pairs is None else pairs)
        if len(self.pairs) != len(dataset):
            raise ValueError(f"pairs describe {len(self.pairs)} rows but the dataset has {len(dataset)}")
        if not self.pairs:
            raise BatchPolicyError("no training pairs")
        if not isinstance(self.pairs[0], Pair):
            raise TypeError(f"rows must be corpora.records.Pair, got {type(self.pairs[0]).__name__}")

        by_set = self.policy.weighting == "set"
        if by_set and (sources is None or len(sources) != len(self.pairs)):
            raise BatchPolicyError("weighting 'set' needs the data set of every row (sources)")
        if by_set and "" in sources:
            shared = sorted({self.pairs[i].group for i, src in enumerate(sources) if not src})
            raise BatchPolicyError(f"--weighting set needs each group in one data set, but {len(shared)} groups "
                                   f"(e.g. {shared[0]!r}) occur in several; weight by language")
        group_ids: dict[str, int] = {}
        self.groups = np.array([group_ids.setdefault(p.group, len(group_ids)) for p in self.pairs])
        # A pool is a stratum (kind, language, data set); the set is "" unless weighting by set, so that
        # the other weightings draw exactly the per-language pools (and batch sequences) they always did.
        rows: dict[tuple[str, str, str], list[int]] = {}
        for i, p in enumerate(self.pairs):
            rows.setdefault((kind_of(p), p.lang, sources[i] if by_set else ""), []).append(i)
        self.pool_rows = {key: np.array(v) for key, v in sorted(rows.items())}
        self.strata = {k: [(lang, src) for (kind, lang, src) in self.pool_rows if kind == k] for k in KINDS}
        self.languages = {k: sorted({lang for lang, _ in self.strata[k]}) for k in KINDS}
        self._check()
        self.weights = {k: self._weights(k) for k in self.policy.kinds}
        used = {i for (kind, *_), idx in self.pool_rows.items() if kind in self.policy.kinds for i in idx}
        self.questions = len({(self.pairs[i].group, self.pairs[i].lang) for i in used})

    def _check(self) -> None:
        policy, kinds = self.policy, self.policy.kinds
        described = {"xx": "X-X pairs (query and passage in one language)",
                     "xy": "X-Y pairs (passage in another language than the query)"}
        for kind in kinds:
            if not self.languages[kind]:
                raise BatchPolicyError(f"policy {policy.name!r} needs {described[kind]}, and the training data has none")
        if len(kinds) == 1:  # a pure policy must be able to use every training language (and set)
            (kind,) = kinds
            for lang in sorted({p.lang for p in self.pairs} - set(self.languages[kind])):
                raise BatchPolicyError(
                    f"language {lang!r} has no {described[kind]}; drop it with --langs or use another policy")
            all_sets = {src for (_, _, src) in self.pool_rows}
            for src in sorted(all_sets - {src for _, src in self.strata[kind]}):
                raise BatchPolicyError(f"data set {src!r} has no {described[kind]}; leave it out or use another policy")
        for (kind, lang, src), idx in self.pool_rows.items():
            if kind in kinds and len(set(self.groups[idx].tolist())) < self.batch_size:
                remedy = ("lower --batch-size, or weight by language (--weighting uniform) so that the sets' pairs of "
                          "this language share one pool" if src else "lower --batch-size or drop the language with --langs")
                raise BatchPolicyError(
                    f"language {lang!r}{f' of {src}' if src else ''} has {LABELS[kind]} pairs from only "
                    f"{len(set(self.groups[idx].tolist()))} groups, fewer than the batch size {self.batch_size}; {remedy}")

    def _weights(self, kind: str) -> np.ndarray:
        strata = self.strata[kind]
        if self.policy.weighting == "uniform":
            sizes = np.ones(len(strata))
        elif self.policy.weighting == "size":
            sizes = np.array([len(self.pool_rows[(kind, lang, src)]) for lang, src in strata], dtype=float)
        else:  # set: 1 / (sets of this kind) / (languages of that set)
            per_set = Counter(src for _, src in strata)
            sizes = np.array([1.0 / per_set[src] for _, src in strata])
        return sizes / sizes.sum()

    def _set_shares(self, kind: str) -> dict[str, float]:
        shares: Counter[str] = Counter()
        for (_, src), w in zip(self.strata[kind], self.weights[kind], strict=True):
            shares[src] += float(w)
        return {src: round(share, 6) for src, share in sorted(shares.items())}

    def __len__(self) -> int:
        batches = self.questions / self.batch_size
        return max(1, math.floor(batches) if self.drop_last else math.ceil(batches))

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        pools: dict[tuple[str, str], _Pool] = {}
        p_xx = self.policy.xx_probability
        for _ in range(len(self)):
            kind = "xx" if rng.random() < p_xx else "xy"
            strata = self.strata[kind]
            key = (kind, *strata[rng.choice(len(strata), p=self.weights[kind])])
            pool = pools.get(key)
            if pool is None:
                pool = pools[key] = _Pool(self.pool_rows[key], self.groups)
            yield pool.take(self.batch_size, rng)

    def describe(self) -> dict[str, Any]:
        """What the sampler draws from: languages and pool sizes per kind, epoch length."""
        return {
            "policy": self.policy.name,
            "alpha": self.policy.xx_probability,
            "weighting": self.policy.weighting,
            "batch_size": self.batch_size,
            "batches_per_epoch": len(self),
            "questions": self.questions,
            "rows": len(self.pairs),
            "languages": {k: self.languages[k] for k in self.policy.kinds},
            "pool_sizes": {":".join(filter(None, key)): len(idx) for key, idx in self.pool_rows.items()
                           if key[0] in self.policy.kinds},
            **({"set_share": {k: self._set_shares(k) for k in self.policy.kinds}} if self.policy.weighting == "set" else {}),
        }


def summarize_batches(pairs: Sequence[Pair], batches: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Properties of a sequence of batches (lists of row indices into ``pairs``).

    Returns a JSON-ready dict: ``batches``; ``xx_share`` (fraction of all-X-X batches);
    ``mixed_batches`` (batches holding both kinds; 0 for these policies); ``duplicate_groups``
    (pairs whose group already occurs earlier in their batch, summed over batches; must be 0);
    ``query_languages_per_batch`` / ``passage_languages_per_batch`` (histograms: number of distinct
    languages -> batches); ``batch_language`` (the query language of each batch, counted per kind);
    ``language_pairs`` (``"X-Y"`` query/passage language pairs -> pairs drawn).
    """
    kinds: Counter[str] = Counter()
    duplicates = 0
    query_langs: Counter[int] = Counter()
    passage_langs: Counter[int] = Counter()
    batch_language: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
    language_pairs: Counter[str] = Counter()
    for batch in batches:
        rows = [pairs[i] for i in batch]
        batch_kinds = {kind_of(p) for p in rows}
        kind = batch_kinds.pop() if len(batch_kinds) == 1 else "mixed"
        kinds[kind] += 1
        duplicates += len(rows) - len({p.group for p in rows})
        langs = {p.lang for p in rows}
        query_langs[len(langs)] += 1
        passage_langs[len({p.passage_lang for p in rows})] += 1
        if kind in batch_language and len(langs) == 1:
            batch_language[kind][next(iter(langs))] += 1
        language_pairs.update(f"{p.lang}-{p.passage_lang}" for p in rows)
    n = len(batches)
    return {
        "batches": n,
        "xx_share": kinds["xx"] / n if n else 0.0,
        "mixed_batches": kinds["mixed"],
        "duplicate_groups": duplicates,
        "query_languages_per_batch": {str(k): v for k, v in sorted(query_langs.items())},
        "passage_languages_per_batch": {str(k): v for k, v in sorted(passage_langs.items())},
        "batch_language": {k: dict(sorted(c.items())) for k, c in batch_language.items()},
        "language_pairs": dict(sorted(language_pairs.items())),
    }


def draw_batches(sampler: HybridBatchSampler, n: int) -> list[list[int]]:
    """The first ``n`` batches the sampler yields, going through as many epochs as needed."""
    batches: list[list[int]] = []
    epoch = 0
    while len(batches) < n:
        sampler.set_epoch(epoch)
        for batch in sampler:
            batches.append(batch)
            if len(batches) == n:
                break
        epoch += 1
    return batches
