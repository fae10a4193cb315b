"""Evaluation settings (mono / cross / multi), rank distance, the embedding cache, report and CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from corpora.records import Benchmark, Candidate, Query
from trainer import metrics
from trainer.embedding_cache import encode_cached, model_fingerprint, text_keys
from trainer.evaluate import evaluate, rank_benchmark, rank_relevant, score
from trainer.report import write_report


class TableEncoder:
    """Fake encoder with scores set by hand: query i is the one-hot e_i, a passage is its column of
    ``scores`` (so query i . passage c == scores[i][c]). Counts the texts it encodes."""

    prompts = {"query": "query: ", "document": "passage: "}
    max_seq_length = 512

    def __init__(self, queries: list[str], passages: dict[str, list[float]]):
        self.queries = queries
        self.passages = passages
        self.encoded: list[str] = []

    def encode_query(self, texts, **kwargs):
        self.encoded += texts
        return np.eye(len(self.queries), dtype=np.float32)[[self.queries.index(t) for t in texts]]

    def encode_document(self, texts, **kwargs):
        self.encoded += texts
        return np.array([self.passages[t] for t in texts], dtype=np.float32)


@pytest.fixture
def tiny():
    """Two languages, two parallel groups; queries en-g1 and de-g1, each relevant to g1 in en and de.

    Scores (rows: queries; candidates in benchmark order en-g1, en-g2, de-g1, de-g2):
        en query: 0.90 0.80 0.70 0.95   -> pooled ranks of relevant: en-g1 2, de-g1 4
        de query: 0.60 0.50 0.90 0.10   -> pooled ranks of relevant: de-g1 1, en-g1 2
    """
    queries = [Query("q-en", "en", "Who?"), Query("q-de", "de", "Wer?")]
    candidates = [Candidate("en-g1", "en", "one"), Candidate("en-g2", "en", "two"),
                  Candidate("de-g1", "de", "eins"), Candidate("de-g2", "de", "zwei")]
    relevant = {"q-en": {"en-g1", "de-g1"}, "q-de": {"en-g1", "de-g1"}}
    benchmark = Benchmark("tiny", queries, candidates, relevant, {"q-en": "g1", "q-de": "g1"})
    encoder = TableEncoder(["Who?", "Wer?"], {"one": [0.9, 0.6], "two": [0.8, 0.5],
                                              "eins": [0.7, 0.9], "zwei": [0.95, 0.1]})
    return benchmark, encoder


def test_settings_by_hand(tiny):
    benchmark, encoder = tiny
    result = evaluate(encoder, benchmark)
    s = result["summary"]
    # mono: both relevant rank first in their own language
    assert s["map_mono"] == pytest.approx(1.0)
    # cross: en->de ranks de-g1 second of two (AP 1/2), de->en ranks en-g1 first
    assert result["pairs"]["en"]["de"]["map"] == pytest.approx(0.5)
    assert result["pairs"]["de"]["en"]["map"] == pytest.approx(1.0)
    assert s["map_cross"] == pytest.approx(0.75)
    # multi: en query (1/2 + 2/4) / 2 = 0.5, de query (1/1 + 2/2) / 2 = 1
    assert result["languages"]["en"]["map_multi"] == pytest.approx(0.5)
    assert s["map_multi"] == pytest.approx(0.75)
    assert s["recall_at_1_multi"] == pytest.approx(0.25)  # en 0/2, de 1/2
    # rank distance: en 4 - 2 = 2, de 2 - 1 = 1
    assert s["rank_distance"] == pytest.approx(1.5)
    # rank gap: de sits 2 below en for the en query; en sits 1 below de for the de query
    assert result["pairs"]["en"]["de"]["mean_rank_gap"] == pytest.approx(2)
    assert result["pairs"]["de"]["en"]["mean_rank_gap"] == pytest.approx(1)
    assert result["languages"]["de"]["mean_rank_gap_as_candidate"] == pytest.approx(2)
    assert result["counts"]["relevant"] == 4
    json.dumps(result, allow_nan=False)  # undefined numbers are null, never NaN


def test_ties_go_to_the_earlier_candidate():
    # all four candidates score the same: the ranking is the benchmark order
    queries = np.ones((1, 2), dtype=np.float32)
    candidates = np.ones((4, 2), dtype=np.float32)
    own, pooled = rank_relevant(queries, candidates, np.array([[3, 1]]), np.array([1, 0, 1, 0]), 2)
    np.testing.assert_array_equal(pooled, [[4, 2]])
    np.testing.assert_array_equal(own, [[2, 1]])


def _brute_force(benchmark: Benchmark, qv: np.ndarray, cv: np.ndarray) -> dict[str, float]:
    """The settings written out the slow, obvious way: sort each candidate set, walk the ranking."""
    scores = qv @ cv.T
    langs = sorted({c.lang for c in benchmark.candidates})

    def ap(q: int, subset: list[int]) -> float | None:
        order = sorted(subset, key=lambda c: (-scores[q, c], c))
        wanted = benchmark.relevant[benchmark.queries[q].id]
        rel = [i for i, c in enumerate(order, 1) if benchmark.candidates[c].id in wanted]
        return sum(k / r for k, r in enumerate(rel, 1)) / len(rel) if rel else None

    per: dict[str, dict[str, list]] = {}
    for q, query in enumerate(benchmark.queries):
        row = per.setdefault(query.lang, {"mono": [], "multi": [], "dist": [], **{y: [] for y in langs}})
        row["multi"].append(ap(q, list(range(len(cv)))))
        for y in langs:
            row[y].append(ap(q, [c for c, cand in enumerate(benchmark.candidates) if cand.lang == y]))
        order = sorted(range(len(cv)), key=lambda c: (-scores[q, c], c))
        ranks = [i for i, c in enumerate(order, 1) if benchmark.candidates[c].id in benchmark.relevant[query.id]]
        if len(ranks) >= 2:
            row["dist"].append(max(ranks) - min(ranks))

    def avg(values: list) -> float:
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else float("nan")

    mono = [avg(row[x]) for x, row in per.items()]
    cross = [metrics.macro_average(avg(row[y]) for y in langs if y != x) for x, row in per.items()]
    return {"map_mono": metrics.macro_average(mono), "map_cross": metrics.macro_average(cross),
            "map_multi": metrics.macro_average(avg(row["multi"]) for row in per.values()),
            "rank_distance": metrics.macro_average(avg(row["dist"]) for row in per.values())}


def test_vectorised_settings_match_brute_force():
    """Random parallel benchmark with coarse (tie-prone) vectors and uneven relevance."""
    rng = np.random.default_rng(3)
    langs, groups = ["ar", "en", "th"], 12
    queries = [Query(f"q-{x}-{g}", x, "") for x in langs for g in range(groups)]
    candidates = [Candidate(f"c-{y}-{g}-{k}", y, "") for y in langs for g in range(groups) for k in range(2)]
    relevant = {q.id: {f"c-{y}-{q.id.split('-')[2]}-0" for y in langs if rng.random() < 0.8} for q in queries}
    benchmark = Benchmark("random", queries, candidates, relevant)
    qv = np.round(rng.standard_normal((len(queries), 4)), 1).astype(np.float32)
    cv = np.round(rng.standard_normal((len(candidates), 4)), 1).astype(np.float32)
    ours = score(rank_benchmark(benchmark, qv, cv))["summary"]
    for key, expected in _brute_force(benchmark, qv, cv).items():
        assert ours[key] == pytest.approx(expected, abs=1e-9), key


def test_second_evaluation_encodes_nothing(tiny, tmp_path):
    benchmark, encoder = tiny
    first = evaluate(encoder, benchmark, cache_root=tmp_path, model_key="fake")
    assert first["timing"]["encoded"] == 6
    assert len(encoder.encoded) == 6
    second = evaluate(encoder, benchmark, cache_root=tmp_path, model_key="fake")
    assert second["timing"]["encoded"] == 0
    assert len(encoder.encoded) == 6
    assert second["summary"] == first["summary"]
    # a subset of the same benchmark is served from the same cache
    subset = replace(benchmark, queries=benchmark.queries[:1])
    assert evaluate(encoder, subset, cache_root=tmp_path, model_key="fake")["timing"]["encoded"] == 0
    # another model key is another cache
    assert evaluate(encoder, benchmark, cache_root=tmp_path, model_key="other")["timing"]["encoded"] == 6


def test_cache_keys_follow_prompt_and_text(tiny, tmp_path):
    _, encoder = tiny
    assert text_keys(encoder, ["one"], "query") != text_keys(encoder, ["one"], "passage")
    vectors, encoded = encode_cached(encoder, ["one", "two", "one"], "passage", folder=tmp_path)
    assert encoded == 2
    assert vectors.shape == (3, 2)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    _, encoded = encode_cached(encoder, ["two", "zwei"], "passage", folder=tmp_path)
    assert encoded == 1  # only the new text


def test_model_fingerprint_follows_the_weights():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(3, 2)
    before = model_fingerprint(model)
    assert model_fingerprint(model) == before
    with torch.no_grad():
        model.weight[0, 0] += 1e-3
    assert model_fingerprint(model) != before
    with pytest.raises(TypeError, match="model_key"):
        model_fingerprint(object())


def test_report_writes_markdown_and_plots(tiny, tmp_path):
    benchmark, encoder = tiny
    result = {"model": "fake", **evaluate(encoder, benchmark)}
    path = write_report(result, tmp_path / "report")
    text = path.read_text()
    assert "| mono | 1.000 |" in text
    assert "high-resource mean" in text
    for name in ("map_heatmap", "map_by_language", "rank_distance", "rank_gap_heatmap"):
        image = tmp_path / "report" / f"{name}.png"
        assert image.stat().st_size > 1000
        assert f"]({name}.png)" in text


# --- the real default encoder ---------------------------------------------------------------

LEGAL = {
    "en": ["The Federal Council consists of seven members.", "Every person has the right to life.",
           "The capital of the federation is Bern."],
    "de": ["Der Bundesrat besteht aus sieben Mitgliedern.", "Jeder Mensch hat das Recht auf Leben.",
           "Die Hauptstadt des Bundes ist Bern."],
    "fr": ["Le Conseil fédéral est composé de sept membres.", "Tout être humain a droit à la vie.",
           "La capitale de la Confédération est Berne."],
}
QUESTIONS = {"en": ["How many members does the Federal Council have?", "Who has a right to life?"],
             "de": ["Wie viele Mitglieder hat der Bundesrat?", "Wer hat ein Recht auf Leben?"]}


def test_real_encoder_on_a_small_legal_benchmark(default_encoder, tmp_path):
    queries = [Query(f"{x}{i}", x, text) for x, texts in QUESTIONS.items() for i, text in enumerate(texts)]
    candidates = [Candidate(f"{y}{i}", y, text) for y, texts in LEGAL.items() for i, text in enumerate(texts)]
    relevant = {q.id: {f"{y}{q.id[2:]}" for y in LEGAL} for q in queries}
    benchmark = Benchmark("legal-toy", queries, candidates, relevant)
    result = evaluate(default_encoder, benchmark, cache_root=tmp_path)
    s = result["summary"]
    assert s["map_mono"] == pytest.approx(1.0)  # an easy question finds its own-language answer first
    assert s["map_cross"] > 0.9
    assert 0 < s["map_multi"] <= 1
    assert s["rank_distance"] >= 2
    again = evaluate(default_encoder, benchmark, cache_root=tmp_path)
    assert again["timing"]["encoded"] == 0
    assert again["summary"] == s


def test_cli_on_xquad_r_with_the_default_encoder(data_set, default_encoder, tmp_path, capsys):
    from trainer.cli import main

    data_set("xquad-r")
    out = tmp_path / "result.json"
    argv = ["evaluate", "--benchmark", "xquad-r", "--langs", "en,de", "th", "--limit", "4",
            "--json", str(out), "--report", str(tmp_path / "report"), "--cache", str(tmp_path / "cache")]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["counts"]["queries"] == 12
    assert result["model"] == "default"
    assert sorted(result["pairs"]) == ["de", "en", "th"]
    assert set(result["pairs"]["th"]) == {"de", "en", "th"}
    s = result["summary"]
    assert set(s) >= {"map_mono", "map_cross", "map_multi", "rank_distance", "rank_distance_median",
                      "rank_distance_p90", "mean_rank_gap", "recall_at_1_multi", "recall_at_10_cross"}
    assert 0 < s["map_multi"] <= s["map_mono"] <= 1  # the base model prefers its own language
    assert (tmp_path / "report" / "REPORT.md").is_file()
    assert "mAP" in capsys.readouterr().out
    # again, JSON on stdout: one document, nothing else, and nothing re-encoded
    assert main(argv[:-6] + ["--json", "-", "--cache", str(tmp_path / "cache")]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["timing"]["encoded"] == 0
    assert again["summary"] == s


@pytest.mark.parametrize("argv, message", [
    (["--benchmark", "xquad-r", "--limit", "0"], "--limit must be at least 1"),
    (["--benchmark", "no-such-benchmark"], "unknown benchmark"),
])
def test_cli_refuses_bad_input(argv, message, capsys):
    from trainer.cli import main

    assert main(["evaluate", *argv]) == 2
    assert message in capsys.readouterr().err
