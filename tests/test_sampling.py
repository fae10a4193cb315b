"""The batch policies: X-X share, no group twice in a batch, languages per batch, seeds, epochs, errors."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest
from torch.utils.data import DataLoader

from corpora.records import Pair
from trainer.pairs import dev_benchmark, limit_groups, split_by_group, training_pairs
from trainer.sampling import (
    BatchPolicy,
    BatchPolicyError,
    HybridBatchSampler,
    draw_batches,
    summarize_batches,
)

N_BATCHES = 1000
MLQA_LIKE = ["ar", "de", "en", "es", "hi", "vi", "zh"]


def synthetic_pairs(groups: int = 400, seed: int = 0) -> list[Pair]:
    """MLQA-like groups (English plus a random subset of six languages, monolingual pairs) and
    AfriQA-like groups (a Hausa question with an English passage, and the English question).

    >>> synthetic_pairs()[:2]
    [Pair(group='g0', lang='en', query='q0-en', passage='p0-en', passage_lang='en'), ...]
    """
    rng = random.Random(seed)
    pairs = []
    for g in range(groups):
        langs = ["en"] + [lang for lang in MLQA_LIKE if lang != "en" and rng.random() < 0.4]
        pairs += [Pair(f"g{g}", lang, f"q{g}-{lang}", f"p{g}-{lang}") for lang in langs]
    for g in range(groups // 4):
        pairs.append(Pair(f"a{g}", "ha", f"qa{g}-ha", f"pa{g}-en", "en"))
        pairs.append(Pair(f"a{g}", "en", f"qa{g}-en", f"pa{g}-en", "en"))
    return pairs


@pytest.fixture(scope="module")
def rows() -> list[Pair]:
    return training_pairs(synthetic_pairs())


def usable(rows: list[Pair], policy: str) -> list[Pair]:
    """Policy ``xx`` refuses a language without X-X pairs (ha): leave it out."""
    return [p for p in rows if p.lang != "ha"] if policy == "xx" else rows


def binomial_interval(n: int, p: float, z: float = 3.2905) -> tuple[float, float]:
    """Two-sided 99.9% interval for a binomial share (normal approximation with continuity correction)."""
    half = z * math.sqrt(n * p * (1 - p)) + 0.5
    return (n * p - half) / n, (n * p + half) / n


def summary(rows: list[Pair], policy: BatchPolicy, n: int = N_BATCHES, batch_size: int = 16, seed: int = 3) -> dict:
    sampler = HybridBatchSampler(rows, batch_size, False, seed=seed, policy=policy)
    return summarize_batches(rows, draw_batches(sampler, n))


def test_training_pairs_cross_every_question_with_every_passage_of_its_group():
    pairs = [Pair("g", "en", "q-en", "p-en"), Pair("g", "de", "q-de", "p-de"),
             Pair("a", "ha", "q-ha", "p-en", "en"), Pair("a", "en", "q-en2", "p-en", "en")]
    got = {(p.group, p.lang, p.passage_lang) for p in training_pairs(pairs)}
    assert got == {("g", "en", "en"), ("g", "en", "de"), ("g", "de", "en"), ("g", "de", "de"),
                   ("a", "ha", "en"), ("a", "en", "en")}
    assert len(training_pairs(pairs + pairs)) == 6  # repeats vanish


@pytest.mark.parametrize("alpha", [0.5, 0.2, 0.9])
def test_hybrid_xx_share_is_alpha_within_a_binomial_interval(rows, alpha):
    s = summary(rows, BatchPolicy("hybrid", alpha))
    low, high = binomial_interval(N_BATCHES, alpha)
    assert low <= s["xx_share"] <= high, s["xx_share"]
    assert s["batches"] == N_BATCHES


@pytest.mark.parametrize("policy,share", [("xx", 1.0), ("xy", 0.0), ("hybrid", None)])
def test_no_group_twice_in_a_batch_and_no_mixed_batches(rows, policy, share):
    s = summary(usable(rows, policy), BatchPolicy(policy))
    assert s["duplicate_groups"] == 0
    assert s["mixed_batches"] == 0
    if share is not None:
        assert s["xx_share"] == share


def test_xx_batches_are_one_language_and_xy_batches_cross_languages(rows):
    xx = summary(usable(rows, "xx"), BatchPolicy("xx"))
    assert xx["query_languages_per_batch"] == {"1": N_BATCHES}
    assert xx["passage_languages_per_batch"] == {"1": N_BATCHES}
    assert all(q == p for q, p in (k.split("-") for k in xx["language_pairs"]))
    xy = summary(rows, BatchPolicy("xy"))
    assert xy["query_languages_per_batch"] == {"1": N_BATCHES}
    assert all(q != p for q, p in (k.split("-") for k in xy["language_pairs"]))
    # passages of an X-Y batch come in several languages, drawn from the group links
    assert max(int(k) for k in xy["passage_languages_per_batch"]) > 1
    assert "ha-en" in xy["language_pairs"]
    assert "de-zh" in xy["language_pairs"]


def test_batch_language_is_uniform_by_default_and_by_size_on_request(rows):
    rows = usable(rows, "xx")
    s = summary(rows, BatchPolicy("xx"))
    counts = s["batch_language"]["xx"]
    assert sorted(counts) == MLQA_LIKE
    low, high = binomial_interval(N_BATCHES, 1 / len(MLQA_LIKE))
    assert all(low <= c / N_BATCHES <= high for c in counts.values()), counts

    sized = summary(rows, BatchPolicy("xx", weighting="size"))["batch_language"]["xx"]
    pool = Counter(p.lang for p in rows if p.lang == p.passage_lang)
    for lang, c in sized.items():
        low, high = binomial_interval(N_BATCHES, pool[lang] / sum(pool.values()))
        assert low <= c / N_BATCHES <= high, (lang, c)


def test_weighting_by_set_gives_each_data_set_an_equal_share_of_batches(rows):
    """A mixture of a 7-language set and a 1-language set: uniform over languages gives the small set
    1/8 of the X-Y batches; by set it gets half, and each batch holds pairs of one set only."""
    sources = ["afriqa" if p.group.startswith("a") else "mlqa" for p in rows]

    def drawn(weighting: str) -> tuple[Counter, list[list[int]]]:
        sampler = HybridBatchSampler(rows, 16, False, seed=3, pairs=rows, sources=sources,
                                     policy=BatchPolicy("xy", weighting=weighting))
        batches = draw_batches(sampler, N_BATCHES)
        assert all(len({sources[i] for i in b}) == 1 for b in batches) or weighting != "set"
        return Counter(sources[b[0]] for b in batches), batches

    by_set, _ = drawn("set")
    low, high = binomial_interval(N_BATCHES, 1 / 2)
    assert low <= by_set["afriqa"] / N_BATCHES <= high, by_set
    uniform, _ = drawn("uniform")
    low, high = binomial_interval(N_BATCHES, 1 / 8)
    assert low <= uniform["afriqa"] / N_BATCHES <= high, uniform
    one_set = HybridBatchSampler(rows, 16, False, seed=3, pairs=rows, sources=["mlqa"] * len(rows),
                                 policy=BatchPolicy("hybrid", weighting="set"))
    assert list(one_set) == list(HybridBatchSampler(rows, 16, False, seed=3, policy=BatchPolicy()))
    assert one_set.describe()["set_share"] == {"xx": {"mlqa": 1.0}, "xy": {"mlqa": 1.0}}
    with pytest.raises(BatchPolicyError, match="needs the data set of every row"):
        HybridBatchSampler(rows, 16, False, policy=BatchPolicy(weighting="set"))
    # a set whose pairs are all X-Y (German questions, English passages) under a pure X-X policy: every
    # language has X-X pairs from the other set, but the set itself would silently get no share
    mlqa = [p for p in rows if p.group.startswith("g")]
    cross = mlqa + [Pair(f"y{g}", "de", f"qy{g}", f"py{g}", "en") for g in range(20)]
    with pytest.raises(BatchPolicyError, match="data set 'cross' has no X-X pairs"):
        HybridBatchSampler(cross, 16, False, pairs=cross, policy=BatchPolicy("xx", weighting="set"),
                           sources=["cross" if p.group.startswith("y") else "mlqa" for p in cross])
    # a language of one set with too few groups for a batch: the remedy is to pool the sets' pairs
    few = rows + [Pair(f"x{g}", "de", f"qx{g}", f"px{g}") for g in range(4)]
    with pytest.raises(BatchPolicyError, match="language 'de' of extra has X-X pairs from only 4 groups.*--weighting uniform"):
        HybridBatchSampler(few, 16, False, pairs=few, policy=BatchPolicy("hybrid", weighting="set"),
                           sources=[("extra" if p.group.startswith("x") else "mlqa") for p in few])


def test_same_seed_same_batches_and_set_epoch_reseeds(rows):
    def batches(seed: int, epoch: int) -> list[list[int]]:
        sampler = HybridBatchSampler(rows, 16, False, seed=seed, policy=BatchPolicy())
        sampler.set_epoch(epoch)
        return list(sampler)

    assert batches(7, 0) == batches(7, 0)
    assert batches(7, 1) == batches(7, 1)
    assert batches(7, 0) != batches(7, 1)
    assert batches(7, 0) != batches(8, 0)
    assert batches(7, 1) == batches(8, 0)  # the generator is seeded with seed + epoch


def test_an_epoch_is_one_batch_per_batch_size_questions_and_draws_without_replacement():
    pairs = [Pair(f"g{g}", "en", f"q{g}", f"p{g}") for g in range(64)]
    sampler = HybridBatchSampler(pairs, 8, False, seed=0, policy=BatchPolicy("xx"))
    assert len(sampler) == 8
    epoch = list(sampler)
    assert len(epoch) == 8
    assert all(len(b) == 8 for b in epoch)
    assert sorted(i for b in epoch for i in b) == list(range(64))  # each row exactly once

    rows = training_pairs(synthetic_pairs())
    questions = len({(p.group, p.lang) for p in rows})
    sampler = HybridBatchSampler(rows, 32, False, policy=BatchPolicy())
    assert len(sampler) == math.ceil(questions / 32) == len(list(sampler))
    assert len(HybridBatchSampler(rows, 32, True, policy=BatchPolicy())) == questions // 32


def test_works_as_a_plain_torch_batch_sampler(rows):
    sampler = HybridBatchSampler(rows, 8, False, seed=1, policy=BatchPolicy("xy"))
    loader = DataLoader(rows, batch_sampler=sampler, collate_fn=list)
    batch = next(iter(loader))
    assert len(batch) == 8
    assert all(p.lang != p.passage_lang for p in batch)


@pytest.mark.parametrize("kwargs,match", [
    ({"name": "hybrid", "alpha": 1.5}, r"alpha must be in \[0, 1\], got 1.5"),
    ({"name": "hybrid", "alpha": -0.1}, r"alpha must be in \[0, 1\]"),
    ({"name": "mixed"}, r"unknown policy 'mixed'; valid: xx, xy, hybrid"),
    ({"weighting": "zipf"}, r"unknown weighting 'zipf'"),
])
def test_bad_policy_settings(kwargs, match):
    with pytest.raises(BatchPolicyError, match=match):
        BatchPolicy(**kwargs)


def test_a_language_without_pairs_for_the_policy_is_an_error(rows):
    monolingual_am = [Pair(f"m{g}", "am", f"qm{g}", f"pm{g}") for g in range(40)]
    with pytest.raises(BatchPolicyError, match=r"language 'am' has no X-Y pairs"):
        HybridBatchSampler(rows + monolingual_am, 8, False, policy=BatchPolicy("xy"))
    with pytest.raises(BatchPolicyError, match=r"language 'ha' has no X-X pairs"):
        HybridBatchSampler(rows, 8, False, policy=BatchPolicy("xx"))
    with pytest.raises(BatchPolicyError, match=r"needs X-Y pairs .* has none"):
        HybridBatchSampler(monolingual_am, 8, False, policy=BatchPolicy("hybrid"))
    # under hybrid each language joins the batches of the kinds it has (am: X-X, ha: X-Y)
    hybrid = HybridBatchSampler(rows + monolingual_am, 8, False, policy=BatchPolicy("hybrid"))
    assert "am" in hybrid.languages["xx"]
    assert "am" not in hybrid.languages["xy"]
    assert "ha" in hybrid.languages["xy"]
    assert "ha" not in hybrid.languages["xx"]
    with pytest.raises(BatchPolicyError, match=r"no training pairs"):
        HybridBatchSampler([], 8, False)


def test_a_pool_smaller_than_the_batch_is_an_error():
    pairs = [Pair(f"g{g}", "en", f"q{g}", f"p{g}") for g in range(5)]
    with pytest.raises(BatchPolicyError, match=r"'en' has X-X pairs from only 5 groups, fewer than the batch size 8"):
        HybridBatchSampler(pairs, 8, False, policy=BatchPolicy("xx"))


def test_dev_split_is_by_group_and_stable():
    pairs = synthetic_pairs()
    train, dev = split_by_group(pairs, dev_groups=20, seed=0)
    assert len({p.group for p in dev}) == 20
    assert not {p.group for p in train} & {p.group for p in dev}
    assert split_by_group(list(reversed(pairs)), 20, 0)[1] == list(reversed(dev))
    assert len({p.group for p in limit_groups(pairs, 30)}) == 30

    bench = dev_benchmark(dev)
    q = bench.queries[0]
    group = bench.groups[q.id]
    assert bench.relevant[q.id] == {c.id for c, p in zip(bench.candidates, _candidate_groups(dev)) if p == group}


def _candidate_groups(pairs: list[Pair]) -> list[str]:
    seen: dict[tuple[str, str, str], str] = {}
    for p in pairs:
        seen.setdefault((p.group, p.passage_lang, p.passage), p.group)
    return list(seen.values())


def test_summary_is_json():
    rows = training_pairs(synthetic_pairs(80))
    s = summary(rows, BatchPolicy(), n=20, batch_size=8)
    assert json.loads(json.dumps(s)) == s
