"""XQuAD-R and MLQA-R built the LAReQA way: published counts, relevance, ids, limit and langs."""

from __future__ import annotations

from collections import Counter

import pytest

from corpora import load_benchmark

XQUAD_R_CANDIDATES = {"ar": 1222, "de": 1276, "el": 1234, "en": 1180, "es": 1215, "hi": 1244, "ru": 1219,
                      "th": 852, "tr": 1167, "vi": 1209, "zh": 1196}  # LAReQA README table
MLQA_R_QUESTIONS = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511, "zh": 504}
MLQA_R_CANDIDATES = {"ar": 2545, "de": 2362, "en": 6264, "es": 1787, "hi": 2426, "vi": 2828, "zh": 2322}


@pytest.fixture(scope="module")
def xquad_r(data_set):
    return load_benchmark("xquad-r", data_dir=data_set("xquad-r").parent)


@pytest.fixture(scope="module")
def mlqa_r(data_set):
    return load_benchmark("mlqa-r", data_dir=data_set("mlqa-r-dev").parent)


def test_xquad_r_published_counts(xquad_r) -> None:
    assert len(xquad_r.languages) == 11
    assert Counter(q.lang for q in xquad_r.queries) == {lang: 1190 for lang in XQUAD_R_CANDIDATES}
    assert len(xquad_r.candidates) == 13_014
    assert Counter(c.lang for c in xquad_r.candidates) == XQUAD_R_CANDIDATES
    assert {len(ids) for ids in xquad_r.relevant.values()} == {11}
    # one relevant sentence per language
    langs = {c.id: c.lang for c in xquad_r.candidates}
    assert all(len({langs[c] for c in ids}) == 11 for ids in xquad_r.relevant.values())


def test_mlqa_r_published_counts(mlqa_r) -> None:
    assert Counter(q.lang for q in mlqa_r.queries) == MLQA_R_QUESTIONS
    assert Counter(c.lang for c in mlqa_r.candidates) == MLQA_R_CANDIDATES
    assert len(mlqa_r.queries) == 4_199
    assert len(mlqa_r.candidates) == 20_534
    assert {len(ids) for ids in mlqa_r.relevant.values()} == {2, 3, 4}


@pytest.mark.parametrize("fixture", ["xquad_r", "mlqa_r"])
def test_ids_unique_and_relevant_ids_exist(fixture, request) -> None:
    bench = request.getfixturevalue(fixture)
    query_ids = [q.id for q in bench.queries]
    candidate_ids = {c.id for c in bench.candidates}
    assert len(set(query_ids)) == len(query_ids)
    assert len(candidate_ids) == len(bench.candidates)
    assert set(bench.relevant) == set(query_ids) == set(bench.groups)
    assert all(ids <= candidate_ids for ids in bench.relevant.values())
    # translations of one question share a group and the same relevant set
    by_group: dict[str, set[frozenset]] = {}
    for qid, group in bench.groups.items():
        by_group.setdefault(group, set()).add(frozenset(bench.relevant[qid]))
    assert all(len(sets) == 1 for sets in by_group.values())


def test_xquad_r_hand_checked_relevance(xquad_r) -> None:
    # SQuAD question 56beb4343aeaaa14008c925b: "How many points did the Panthers defense surrender?" -> 308
    text = {c.id: c.text for c in xquad_r.candidates}
    relevant = xquad_r.relevant["q:en:56beb4343aeaaa14008c925b"]
    assert {c.split(":")[1] for c in relevant} == set(XQUAD_R_CANDIDATES)
    assert text["c:en:0.0.0"].startswith("The Panthers defense gave up just 308 points")
    assert "c:en:0.0.0" in relevant
    assert "c:de:0.0.0" in relevant
    assert "c:zh:0.0.0" in relevant
    assert all("308" in text[c] for c in relevant if c.split(":")[1] not in ("ar", "hi", "th"))
    assert xquad_r.relevant["q:zh:56beb4343aeaaa14008c925b"] == relevant
    assert xquad_r.groups["q:zh:56beb4343aeaaa14008c925b"] == "56beb4343aeaaa14008c925b"


def test_mlqa_r_hand_checked_relevance(mlqa_r) -> None:
    # Hindi "what is leptome?": answer sentences about phloem-like tissue in ar, en, es, hi
    qid = "q:hi:694ce8b90f6854bcd6c3a505767df90f8b659d06"
    text = {c.id: c.text for c in mlqa_r.candidates}
    relevant = mlqa_r.relevant[qid]
    assert sorted(c.split(":")[1] for c in relevant) == ["ar", "en", "es", "hi"]
    assert any("leptome" in text[c] for c in relevant)
    assert any("लेप्टोम" in text[c] for c in relevant)
    assert [q.text for q in mlqa_r.queries if q.id == qid] == ["लेप्टोम क्या है?"]  # literal \n removed


def test_answer_sentence_holds_answer_text(xquad_r, data_set) -> None:
    """For English, the relevant English sentence contains the answer text (spans inside one sentence)."""
    from corpora.files import read_json

    doc = read_json(data_set("xquad-r") / "en.json")
    text = {c.id: c.text for c in xquad_r.candidates}
    misses = 0
    for paragraph in (p for a in doc["data"] for p in a["paragraphs"]):
        for qa in paragraph["qas"]:
            (en,) = [c for c in xquad_r.relevant[f"q:en:{qa['id']}"] if c.startswith("c:en:")]
            misses += qa["answers"][0]["text"] not in text[en]
    assert misses <= 3  # three answers run across a sentence break ("E.I. du Pont")


def test_limit_and_langs(data_set) -> None:
    bench = load_benchmark("xquad-r", langs=["en", "deu"], limit=10, data_dir=data_set("xquad-r").parent)
    assert bench.languages == ["de", "en"]
    assert Counter(q.lang for q in bench.queries) == {"de": 10, "en": 10}
    candidate_ids = {c.id for c in bench.candidates}
    assert all(ids <= candidate_ids and len(ids) == 2 for ids in bench.relevant.values())
    # the pool is every sentence of the paragraphs holding the kept questions, no more
    assert 2 <= len({c.id.rsplit(".", 1)[0] for c in bench.candidates}) <= 20
    again = load_benchmark("xquad-r", langs=["en", "de"], limit=10, data_dir=data_set("xquad-r").parent)
    assert [q.id for q in again.queries] == [q.id for q in bench.queries]


def test_mlqa_limit_keeps_relevant_candidates(data_set) -> None:
    bench = load_benchmark("mlqa-r", limit=5, data_dir=data_set("mlqa-r-dev").parent)
    assert Counter(q.lang for q in bench.queries) == {lang: 5 for lang in MLQA_R_QUESTIONS}
    candidate_ids = {c.id for c in bench.candidates}
    assert all(ids <= candidate_ids for ids in bench.relevant.values())


def test_bad_arguments(data_set) -> None:
    root = data_set("xquad-r").parent
    with pytest.raises(ValueError, match="'ro' is not in xquad-r; valid: ar, de"):
        load_benchmark("xquad-r", langs=["ro"], data_dir=root)
    with pytest.raises(ValueError, match="limit must be a positive"):
        load_benchmark("xquad-r", limit=0, data_dir=root)
    with pytest.raises(ValueError, match="unknown benchmark 'xquad'; valid: xquad-r, mlqa-r"):
        load_benchmark("xquad", data_dir=root)
