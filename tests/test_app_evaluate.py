"""``python -m app evaluate``: the product's search path scored with the trainer's metrics.

On a slice of XQuAD-R with the real default model: dense search through the product (SQLite, FAISS,
``app.search``) gives the encoder's own figures; hybrid on natural questions does not lower them; the
keyword index alone reports how many questions it matches in each language."""

from __future__ import annotations

import json

import pytest

from app import cli
from tests.app_helpers import real_encoder


@pytest.fixture(scope="module")
def slice_(data_set):
    from corpora import load_benchmark

    data_set("xquad-r")
    return load_benchmark("xquad-r", limit=3, langs=["en", "de", "zh", "ar"])


def test_product_dense_equals_the_encoders_evaluation_and_hybrid_does_not_lower_it(slice_, tmp_path):
    from app.evaluate import evaluate_product
    from trainer.evaluate import evaluate

    encoder = real_encoder()
    trainer = evaluate(encoder, slice_)["summary"]
    dense = evaluate_product(slice_, encoder, folder=tmp_path / "dense", mode="dense")
    for key in ("map_mono", "map_cross", "map_multi", "rank_distance"):
        assert dense["summary"][key] == pytest.approx(trainer[key], abs=0.005), key
    assert dense["index"].startswith("IDMap,Flat") and dense["langid_accuracy"] > 0.9
    assert 1 <= dense["summary"]["languages_in_top_10"] <= 4
    hybrid = evaluate_product(slice_, encoder, folder=tmp_path / "hybrid", mode="hybrid")
    assert hybrid["summary"]["map_multi"] >= dense["summary"]["map_multi"] - 1e-9
    assert hybrid["summary"]["languages_in_top_10"] >= dense["summary"]["languages_in_top_10"] - 1e-9


def test_the_cli_writes_json_and_reports_keyword_hits_per_language(slice_, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_load_encoder", lambda args: real_encoder())
    out = tmp_path / "keywords.json"
    code = cli.main(["evaluate", "--benchmark", "xquad-r", "--limit", "3", "--langs", "en,zh", "--mode", "keywords",
                     "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "questions the keyword index matches anything for" in printed
    result = json.loads(out.read_text())
    assert result["mode"] == "keywords"
    hits = result["keyword_hits_by_language"]
    assert hits["en"] == hits["zh"] == 1.0  # Chinese too: the keyword index splits unspaced scripts (issue #14)
    figures = result["keyword_by_language"]
    assert set(figures) == {"en", "zh"} and all(0 < f["map"] <= 1 and 0 < f["recall_at_10"] <= 1 for f in figures.values())


def test_several_modes_share_one_store_and_only_fused_questions_can_be_asked(tmp_path, monkeypatch, capsys):
    """--queries fused keeps the questions hybrid fuses keyword evidence for; on them dense and hybrid are
    compared from one store (--mode dense hybrid), each written to its own JSON."""
    monkeypatch.setattr(cli, "_load_encoder", lambda args: real_encoder())
    assert cli.main(["evaluate", "--benchmark", "constitutions", "--limit", "30", "--langs", "nb,nn", "--mode", "dense",
                     "hybrid", "--json", str(tmp_path / "one.json")]) == 2  # no {mode} in the path
    assert cli.main(["evaluate", "--benchmark", "constitutions", "--limit", "30", "--langs", "nb,nn", "--mode", "dense",
                     "hybrid", "--report", str(tmp_path / "one")]) == 2  # --report too
    code = cli.main(["evaluate", "--benchmark", "constitutions", "--limit", "30", "--langs", "nb,nn", "--queries", "fused",
                     "--mode", "dense", "hybrid", "--json", str(tmp_path / "c-{mode}.json"),
                     "--report", str(tmp_path / "report-{mode}")])
    assert code == 0
    for mode in ("dense", "hybrid"):  # the trainer's report (tables, plots) plus what the product path adds
        report = (tmp_path / f"report-{mode}" / "REPORT.md").read_text()
        assert f"through the product: {mode}" in report and "languages among the first ten results" in report
        assert "| nb |" in report and (tmp_path / f"report-{mode}" / "map_heatmap.png").stat().st_size > 1000
    dense, hybrid = (json.loads((tmp_path / f"c-{m}.json").read_text()) for m in ("dense", "hybrid"))
    assert dense["benchmark"] == hybrid["benchmark"] == "constitutions-fused"
    assert dense["counts"] == hybrid["counts"] and 0 < dense["counts"]["queries"] < 60
    assert dense["timing"]["build_s"] == hybrid["timing"]["build_s"]  # one store, built once
