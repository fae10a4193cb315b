"""``python -m app migrate``: a SQLite + FAISS library copied into a real PostgreSQL, nothing re-encoded.

The library is made the product's way (real PDFs in three scripts, real ingest with the default
encoder, a language correction, a marked translation set, an OCR'd scan); after the copy both stores
must answer the same searches with the same passages and scores, and serve the same original PDFs.
"""

from __future__ import annotations

import json

import pytest

from app import cli
from app.ingest import ingest_paths
from app.search import search
from app.store import Store
from app.store_open import open_store
from tests import pdf_factory as factory
from tests.app_helpers import real_encoder

pytestmark = pytest.mark.skipif(not factory.fonts_available(),
                                reason=f"Noto fonts missing: apt-get install {factory.DEBIAN_PACKAGES}")

QUERIES = ["Everyone has the right to life, liberty and security of person",
           "Все люди рождаются свободными", "ሁሉም ሰው"]


@pytest.fixture(scope="module")
def sqlite_library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("migrate")
    pdfs = folder / "pdfs"
    pdfs.mkdir()
    for lang in ("en", "ru", "am"):
        factory.make_pdf(pdfs / f"udhr-{lang}.pdf", [factory.UDHR[lang]])
    with Store.open(folder / "store") as store:
        results = ingest_paths(sorted(pdfs.glob("*.pdf")), store=store, encoder=real_encoder())
        assert [r.status for r in results] == ["added"] * 3
        docs = {d.file: d for d in store.documents()}
        store.set_language(docs["udhr-am.pdf"].id, "ti")  # a user's correction must survive the copy
        store.mark_translation_set([docs["udhr-en.pdf"].id, docs["udhr-ru.pdf"].id])
    return folder / "store"


def _hits(store, query):
    return [(h.file, h.page, h.text, round(h.score, 5)) for h in search(store, real_encoder(), query, k=5).results]


def test_migrate_copies_everything_and_both_stores_answer_alike(sqlite_library, pg_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POLYLEX_CACHE", str(tmp_path / "cache"))
    code = cli.main(["migrate", "--from", str(sqlite_library), "--to", pg_url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "copied 3 documents" in out and "nothing re-encoded" in out and "verified:" in out
    with Store.open(sqlite_library) as source, open_store(pg_url, cache=tmp_path / "cache") as target:
        assert [(d.sha256, d.file, d.lang, d.lang_source, d.chunks, d.added, d.model) for d in source.documents()] == \
               [(d.sha256, d.file, d.lang, d.lang_source, d.chunks, d.added, d.model) for d in target.documents()]
        assert target.languages() == source.languages() and target.model_id == source.model_id
        files = {d.id: d.file for d in target.documents()}
        assert [[files[m] for m in s] for s in target.translation_sets()] == [["udhr-en.pdf", "udhr-ru.pdf"]]
        for query in QUERIES:
            assert _hits(target, query) == _hits(source, query)
        for doc in source.documents():
            copy = target.by_hash(doc.sha256)
            assert target.original_file(copy.id).read_bytes() == source.original_file(doc.id).read_bytes()
        assert target.doctor(repair=False).ok

    # Again: everything is there already, nothing is copied twice.
    code = cli.main(["migrate", "--from", str(sqlite_library), "--to", pg_url, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"]
    assert (report["documents_copied"], report["documents_skipped"]) == (0, 3)


def test_migrate_into_a_store_of_another_model_is_refused(sqlite_library, pg_url, tmp_path, capsys, monkeypatch):
    from app.store_protocol import NewChunk
    from tests.app_helpers import FakeEncoder

    monkeypatch.setenv("POLYLEX_CACHE", str(tmp_path / "cache"))
    fake = FakeEncoder()
    with open_store(pg_url, cache=tmp_path / "cache") as target:
        target.add_document(sha256="f" * 64, text_sha256="e" * 64, file="other.pdf", title="Other", lang="en",
                            lang_source="detected", pages=1, size=1, model_id=fake.polylex_id,
                            chunks=[NewChunk(seq=0, page=1, page_end=1, heading=None, lang="en", text="x",
                                             embedding=fake.encode_document(["x"])[0])])
    code = cli.main(["migrate", "--from", str(sqlite_library), "--to", pg_url])
    err = capsys.readouterr().err
    assert code == 2 and "error: the store holds embeddings of model 'fake-bag-of-words'" in err
    code = cli.main(["migrate", "--from", str(sqlite_library), "--to", str(sqlite_library)])
    assert code == 2 and "same store" in capsys.readouterr().err


def test_a_source_changed_during_the_copy_ends_in_one_line_and_a_rerun_finishes(sqlite_library, tmp_path, capsys,
                                                                                  monkeypatch):
    """Someone deletes passages while migrate reads them: a clear error, not a KeyError's traceback;
    what was copied stays and a second run copies the rest."""
    from app.migrate import migrate as copy_library

    target_folder = tmp_path / "copy"
    with Store.open(sqlite_library) as source, Store.open(target_folder) as target:
        first = source.documents()[0].id
        real_fetch = source.fetch_chunks

        def losing(ids):  # the first document loses a passage between the two reads
            rows = real_fetch(ids)
            return {i: r for i, r in rows.items() if not (r["doc_id"] == first and r["seq"] == 0)}

        monkeypatch.setattr(source, "fetch_chunks", losing)
        with pytest.raises(Exception, match="source library changed during the copy") as raised:
            copy_library(source, target)
        assert not isinstance(raised.value, KeyError)
        monkeypatch.setattr(source, "fetch_chunks", real_fetch)
        report = copy_library(source, target)
        assert report.problems == [] and report.documents_copied + report.documents_skipped == 3
