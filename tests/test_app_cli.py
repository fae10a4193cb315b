"""``python -m app``: every command, its output lines, ``--json`` purity and exit codes.

Commands run in-process through ``app.cli.main`` with the real default encoder loaded once
(``_load_encoder`` is pointed at the cached one); ``--help`` and ``list`` also run as a real
``python -m app`` subprocess, and ``tests/test_crash_consistency.py`` runs a real ``ingest``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from tests import pdf_factory as factory
from tests.app_helpers import FakeEncoder, real_encoder

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not factory.fonts_available(),
                                reason=f"Noto fonts missing: apt-get install {factory.DEBIAN_PACKAGES}")


@pytest.fixture
def app_cli(monkeypatch, tmp_path, capsys):
    """``app_cli("search", "...")`` -> (exit code, stdout, stderr), with ``--store`` set to a temp store."""
    monkeypatch.setattr(cli, "_load_encoder", lambda args: real_encoder())
    store = tmp_path / "store"

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main([*argv, "--store", str(store)])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library")
    factory.make_pdf(folder / "udhr-en.pdf", [factory.UDHR["en"]], title="Universal Declaration")
    factory.make_pdf(folder / "udhr-ru.pdf", [factory.UDHR["ru"]])
    factory.make_pdf(folder / "udhr-am.pdf", [factory.UDHR["am"]])
    factory.make_scanned_pdf(folder / "scan.pdf")
    return folder


def test_ingest_search_list_delete_doctor(app_cli, library):
    code, out, err = app_cli("ingest", str(library))
    lines = out.splitlines()
    assert code == 1  # one file was refused
    assert [line.split()[0] for line in lines] == ["refused", "added", "added", "added"]
    assert "scan.pdf: no text in 2 page(s) and OCR could not read them" in lines[0]
    assert "OCR" in lines[0]
    assert lines[2].endswith("udhr-en.pdf: 1 pages, 2 chunks, en (document 2)")

    code, out, _ = app_cli("ingest", str(library / "udhr-en.pdf"))
    assert code == 0
    assert out.startswith("duplicate ")

    code, out, _ = app_cli("search", "Has everyone a right to life?", "--k", "2")
    assert code == 0
    assert out.splitlines()[0] == "query language: en · dense · 2 results"
    # the article on the right to life comes first, in whichever language the model ranks highest
    # (the default model is trained to rank the right passage alike in every language)
    first = out.splitlines()[1]
    assert any(f" [{lang}] udhr-{lang}.pdf p. 1  {heading}" in first
               for lang, heading in (("en", "Article 3"), ("ru", "Статья 3"), ("am", "አንቀጽ 3"))), first

    code, out, err = app_cli("search", "право на жизнь", "--json", "--langs", "en,am", "--mode", "hybrid")
    document = json.loads(out)  # stdout is exactly one JSON document
    assert document["query_lang"] == "ru"
    assert document["mode"] == "hybrid"
    assert {r["lang"] for r in document["results"]} == {"en", "am"}
    assert set(document["results"][0]) >= {"doc_id", "file", "title", "page", "heading", "lang", "score", "text"}

    code, out, _ = app_cli("search", "life", "--docs", "udhr-am.pdf", "--json")
    assert {r["file"] for r in json.loads(out)["results"]} == {"udhr-am.pdf"}

    code, out, _ = app_cli("list")
    assert code == 0
    assert "udhr-en.pdf — Universal Declaration" in out
    assert out.splitlines()[-1].startswith("3 documents, 6 chunks; index IDMap,Flat (6 vectors")

    code, out, _ = app_cli("delete", "udhr-ru.pdf")
    assert (code, out.strip()) == (0, "deleted document 3 (udhr-ru.pdf, 2 chunks)")

    code, out, _ = app_cli("doctor", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["ok"]
    assert (report["documents"], report["chunks"]) == (2, 4)

    code, out, _ = app_cli("list", "--json")
    listing = json.loads(out)
    assert [d["file"] for d in listing["documents"]] == ["udhr-am.pdf", "udhr-en.pdf"]
    assert listing["stats"]["chunks"] == 4
    assert listing["stats"]["languages"] == {"am": 2, "en": 2}


def test_ingest_json_and_lang_override(app_cli, library):
    code, out, _ = app_cli("ingest", str(library / "udhr-am.pdf"), "--lang", "ti", "--json")
    result = json.loads(out)["results"][0]
    assert code == 0
    assert (result["status"], result["lang"], result["languages"]) == ("added", "ti", {"ti": 1.0})


@pytest.mark.parametrize("argv, message", [
    (["search", "x", "--k", "0"], "error: --k 0: it must be at least 1"),
    (["search", "x", "--docs", "missing.pdf"], "error: no document 'missing.pdf' in the store"),
    (["delete", "42"], "error: no document '42' in the store"),
    (["ingest", "x.pdf", "--lang", "German"], "error: --lang 'German' is not a language code"),
])
def test_bad_input_is_one_line_and_exit_2(app_cli, argv, message):
    code, out, err = app_cli(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_reindex_with_another_model_then_search_needs_it(app_cli, library, monkeypatch):
    assert app_cli("ingest", str(library / "udhr-en.pdf"))[0] == 0
    monkeypatch.setattr(cli, "_load_encoder", lambda args: FakeEncoder(model_id="fake-v2"))
    code, out, _ = app_cli("reindex", "--model", "fake-v2")
    assert code == 0
    assert out.startswith("re-embedded 2 chunks: ")
    assert "-> fake-v2; index IDMap,Flat" in out
    monkeypatch.setattr(cli, "_load_encoder", lambda args: real_encoder())
    code, _, err = app_cli("search", "life")
    assert code == 2
    assert "reindex" in err


def test_reindex_requires_a_model(app_cli):
    with pytest.raises(SystemExit) as info:
        app_cli("reindex")
    assert info.value.code == 2


def test_real_subprocess_help_and_list(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLYLEX_STORE": str(tmp_path / "store")}
    done = subprocess.run([sys.executable, "-m", "app", "--help"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("ingest", "search", "list", "delete", "reindex", "doctor"):
        assert command in done.stdout
    done = subprocess.run([sys.executable, "-m", "app", "list", "--json"], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0
    assert json.loads(done.stdout)["documents"] == []
    assert (tmp_path / "store" / "polylex.db").is_file()  # POLYLEX_STORE is honoured
