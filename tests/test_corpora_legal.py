"""Parallel benchmarks: constitutions (article k <-> article k), MILPaC (question -> answers), NTREX, AfriQA."""

from __future__ import annotations

from collections import Counter

import pytest

from corpora import load_benchmark
from corpora.parallel import ParallelUnit, parallel_benchmark


@pytest.fixture(scope="module")
def root(data_dir):
    return data_dir


def _check_ids(bench) -> None:
    query_ids = [q.id for q in bench.queries]
    candidate_ids = [c.id for c in bench.candidates]
    assert len(set(query_ids)) == len(query_ids)
    assert len(set(candidate_ids)) == len(candidate_ids)
    assert set(bench.relevant) == set(query_ids) == set(bench.groups)
    assert all(ids and ids <= set(candidate_ids) for ids in bench.relevant.values())


def test_constitutions(root, data_set) -> None:
    data_set("constitutions-multilang")
    ch = load_benchmark("constitutions-ch", data_dir=root)
    no = load_benchmark("constitutions-no", data_dir=root)
    both = load_benchmark("constitutions", data_dir=root)
    assert ch.languages == ["de", "en", "fr", "it"]
    assert no.languages == ["en", "nb", "nn"]
    assert Counter(q.lang for q in ch.queries) == {"de": 199, "en": 199, "fr": 199, "it": 199}
    assert Counter(q.lang for q in no.queries) == {"en": 121, "nb": 121, "nn": 121}
    assert len(both.queries) == len(ch.queries) + len(no.queries) == 1159
    for bench in (ch, no, both):
        _check_ids(bench)
    text = {c.id: c.text for c in ch.candidates}
    # Article 6 in German is relevant to article 6 in every language of the Swiss constitution
    assert ch.relevant["q:de:ch/6"] == {"c:de:ch/6", "c:en:ch/6", "c:fr:ch/6", "c:it:ch/6"}
    assert text["c:de:ch/6"].startswith("Art. 6 Individuelle und gesellschaftliche Verantwortung")
    assert text["c:fr:ch/6"].startswith("Art. 6")
    # Swiss article 1 and Norwegian article 1 stay apart in the combined benchmark
    assert both.groups["q:en:ch/1"] != both.groups["q:en:no/1"]
    assert both.relevant["q:en:no/1"] == {"c:en:no/1", "c:nb:no/1", "c:nn:no/1"}


def test_milpac_questions_find_answers_in_every_language(root, data_set) -> None:
    data_set("milpac")
    bench = load_benchmark("milpac", data_dir=root)
    _check_ids(bench)
    assert Counter(q.lang for q in bench.queries)["en"] == 57 + 181
    assert bench.languages == ["bn", "en", "gu", "hi", "ml", "mr", "or", "pa", "ta", "te"]
    text = {c.id: c.text for c in bench.candidates}
    query = {q.id: q.text for q in bench.queries}
    assert query["q:en:ip/1"] == "What is intellectual property?"
    assert len(bench.relevant["q:hi:ip/1"]) == 10
    assert text["c:en:ip/1"].startswith("‘Intellectual Property’ (IP) refers to creations")
    assert bench.relevant["q:ta:cci/1_1"] == {f"c:{x}:cci/1_1" for x in ["en", "bn", "hi", "mr", "ta"]}
    assert len(load_benchmark("milpac-ip", data_dir=root).queries) + len(
        load_benchmark("milpac-cci", data_dir=root).queries) == len(bench.queries)


def test_milpac_acts_bitext(root, data_set) -> None:
    data_set("milpac")
    bench = load_benchmark("milpac-acts", langs=["en", "bn"], limit=20, data_dir=root)
    _check_ids(bench)
    assert Counter(q.lang for q in bench.queries) == {"en": 20, "bn": 20}


def test_ntrex_bitext(root, data_set) -> None:
    data_set("ntrex128-subset")
    bench = load_benchmark("ntrex", langs=["en", "am", "ar"], limit=50, data_dir=root)
    _check_ids(bench)
    assert Counter(q.lang for q in bench.queries) == {"en": 50, "am": 50, "ar": 50}
    assert len(bench.candidates) == 150
    # the benchmark is the held-out stories (never trained on); line 113 is the first of them
    assert bench.relevant["q:am:ntrex/113"] == {"c:en:ntrex/113", "c:am:ntrex/113", "c:ar:ntrex/113"}
    assert not any(q.id.endswith("ntrex/0") for q in bench.queries)


def test_afriqa_benchmark(root, data_set) -> None:
    data_set("afriqa")
    bench = load_benchmark("afriqa", langs=["ha", "fon"], data_dir=root)
    _check_ids(bench)
    assert {q.lang for q in bench.queries} == {"ha", "fon"}
    assert {c.lang for c in bench.candidates} == {"en", "fr"}
    assert all(len(ids) == 1 for ids in bench.relevant.values())


def test_parallel_limit_keeps_pool_consistent() -> None:
    """Units are a small in-code corpus: u1 has en+fr, u2 fr only, u3 en+fr."""
    units = [
        ParallelUnit("u1", {"en": "a", "fr": "A"}, {"en": "a", "fr": "A"}),
        ParallelUnit("u2", {"fr": "B"}, {"fr": "B"}),
        ParallelUnit("u3", {"en": "c", "fr": "C"}, {"en": "c", "fr": "C"}),
    ]
    bench = parallel_benchmark("toy", units, limit=1)
    assert [q.id for q in bench.queries] == ["q:en:u1", "q:fr:u1"]
    assert {c.id for c in bench.candidates} == {"c:en:u1", "c:fr:u1"}
    bench = parallel_benchmark("toy", units, langs=["fr"], limit=2)
    assert [q.id for q in bench.queries] == ["q:fr:u1", "q:fr:u2"]
    assert bench.relevant["q:fr:u2"] == {"c:fr:u2"}
