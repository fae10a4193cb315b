"""app.store: SQLite as the truth, FAISS derived from it, checked, repaired and swapped atomically."""

from __future__ import annotations

import inspect
import sqlite3

import faiss
import numpy as np
import pytest

from app.errors import ModelMismatch
from app.store import SCHEMA_VERSION, IndexPolicy, NewChunk, Store
from app.store_protocol import StoreBackend
from app.vector_index import IndexFiles
from tests.app_helpers import FakeEncoder

ENC = FakeEncoder()


def add(store: Store, name: str, texts: list[str], *, lang: str = "en", encoder: FakeEncoder = ENC):
    vectors = encoder.encode_document(texts)
    chunks = [NewChunk(seq=i, page=i + 1, page_end=i + 1, heading=f"Article {i + 1}", lang=lang, text=t, embedding=v)
              for i, (t, v) in enumerate(zip(texts, vectors))]
    return store.add_document(sha256=name.ljust(64, "0"), text_sha256=name.ljust(64, "1"), file=f"{name}.pdf",
                              title=name, lang=lang, lang_source="detected", pages=len(texts), size=100,
                              model_id=encoder.polylex_id, chunks=chunks)


def faiss_ids(store: Store) -> list[int]:
    return sorted(faiss.vector_to_array(store.index.id_map).tolist())


def sql_ids(store: Store) -> list[int]:
    return [r[0] for r in store.db.execute("SELECT id FROM chunks ORDER BY id").fetchall()]


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store") as opened:
        yield opened


def test_add_writes_rows_blobs_fts_and_faiss(store):
    doc = add(store, "contract", ["the seller delivers the goods", "the buyer pays the price"])
    assert (doc.id, doc.chunks, doc.model) == (1, 2, ENC.polylex_id)
    assert faiss_ids(store) == sql_ids(store)
    assert len(sql_ids(store)) == 2
    blob = store.db.execute("SELECT embedding FROM chunks WHERE seq = 1").fetchone()[0]
    np.testing.assert_array_equal(np.frombuffer(blob, dtype="<f4"), ENC.encode_document(["the buyer pays the price"])[0])
    assert store.search_text("price", limit=5) == [sql_ids(store)[1]]
    assert store.model_id == ENC.polylex_id
    assert store.dim == ENC.dim
    assert list(store.folder.glob("index-g*.faiss")) == [store.folder / f"index-g{store.generation():08d}.faiss"]


def test_same_hash_is_refused_and_nothing_written(store):
    add(store, "contract", ["one chunk"])
    generation = store.generation()
    with pytest.raises(ValueError, match="already stored"):
        add(store, "contract", ["other text"])
    assert store.chunk_count() == 1
    assert store.generation() == generation


def test_another_model_is_refused(store):
    add(store, "a", ["text"])
    with pytest.raises(ModelMismatch, match="reindex"):
        add(store, "b", ["text"], encoder=FakeEncoder(model_id="other-model"))
    with pytest.raises(ModelMismatch, match="384-d|64-d"):
        store.check_model(ENC.polylex_id, 384)


def test_delete_removes_rows_fts_and_vectors(store):
    keep = add(store, "keep", ["alpha beta", "gamma delta"])
    gone = add(store, "gone", ["epsilon zeta"])
    store.delete_document(gone.id)
    assert [d.id for d in store.documents()] == [keep.id]
    assert faiss_ids(store) == sql_ids(store)
    assert len(faiss_ids(store)) == 2
    assert store.search_text("epsilon", limit=5) == []
    assert store.doctor().ok
    with pytest.raises(KeyError):
        store.delete_document(gone.id)


def test_reopen_loads_the_index_file_without_rebuilding(tmp_path, monkeypatch):
    with Store.open(tmp_path / "s") as store:
        add(store, "a", ["one", "two", "three"])
    calls = []
    monkeypatch.setattr(Store, "_build_index", lambda self, *a: calls.append(1))
    with Store.open(tmp_path / "s") as store:
        assert store.index.ntotal == 3
        assert calls == []


@pytest.mark.parametrize("damage", ["missing", "garbage", "stale"])
def test_a_bad_index_file_is_rebuilt_from_sqlite_on_open(tmp_path, damage):
    with Store.open(tmp_path / "s") as store:
        add(store, "a", ["one", "two"])
        stale = IndexFiles(store.folder).path(store.generation()).read_bytes()
        add(store, "b", ["three"])
        path = IndexFiles(store.folder).path(store.generation())
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"not a faiss index")
    else:  # an index of an older generation under the current name: one vector short
        path.write_bytes(stale)
    with Store.open(tmp_path / "s") as store:
        assert faiss_ids(store) == sql_ids(store)
        assert len(sql_ids(store)) == 3
        assert store.doctor(repair=False).ok


def test_doctor_finds_and_repairs_a_tampered_index(store):
    add(store, "a", ["one", "two", "three"])
    store.index.remove_ids(faiss.IDSelectorBatch(np.array(sql_ids(store)[:1], dtype="int64")))
    report = store.doctor(repair=False)
    assert not report.ok
    assert any("FAISS has 2 vectors, SQLite 3 chunks" in p for p in report.problems)
    report = store.doctor()
    assert report.ok
    assert "rebuilt the FAISS index from SQLite" in report.repaired
    assert faiss_ids(store) == sql_ids(store)


def test_doctor_notices_vectors_that_do_not_match_sqlite(store):
    add(store, "a", ["one", "two", "three"])
    ids = np.array(sql_ids(store), dtype="int64")
    wrong = np.random.default_rng(0).standard_normal((3, ENC.dim)).astype("float32")
    faiss.normalize_L2(wrong)
    store.index.reset()
    store.index.add_with_ids(wrong, ids)
    assert any("do not match" in p for p in store.doctor(repair=False).problems)
    assert store.doctor().ok


def test_doctor_rebuilds_a_broken_fts_index(store):
    add(store, "a", ["findable words here"])
    store.db.execute("DELETE FROM chunks_fts_data WHERE id > 1")  # damage the FTS5 shadow table
    store.db.conn.commit()
    report = store.doctor()
    assert any(p.startswith("full-text index") for p in report.problems)
    assert report.ok
    assert store.search_text("findable", limit=3) == sql_ids(store)


def test_hnsw_beyond_the_documented_size_and_rebuild_on_delete(tmp_path):
    policy = IndexPolicy(approximate="IDMap,HNSW32", approximate_from=40, large_from=10**9, exact_filter_max=5)
    texts = [f"clause {i} about topic {i % 7} and matter {i % 11}" for i in range(60)]
    with Store.open(tmp_path / "s", policy=policy) as store:
        first = add(store, "small", texts[:30])
        assert store.index_description().startswith("IDMap,Flat")
        add(store, "big", texts[30:])
        assert store.index_description().startswith("IDMap,HNSW32")
        # recall of HNSW against exact search on the stored vectors
        # (scores, not ids: the fake encoder's vectors have many exact ties)
        vectors = store.embeddings().vectors
        exact = np.sort(vectors @ vectors[:20].T, axis=0)[::-1][:5].T  # (20 queries, top 5)
        found = np.array([[score for _, score in store.search_vectors(vectors[q], 5)] for q in range(20)])
        assert np.isclose(found, exact, atol=1e-5).all(axis=1).mean() >= 0.9
        store.delete_document(first.id)  # HNSW cannot remove ids: rebuilt, and back to exact
        assert store.index_description().startswith("IDMap,Flat")
        assert faiss_ids(store) == sql_ids(store)
        assert store.doctor().ok


def test_filters_use_exact_scoring_or_a_faiss_selector(tmp_path):
    with Store.open(tmp_path / "s", policy=IndexPolicy(exact_filter_max=2)) as store:
        a = add(store, "a", ["red apple", "green apple", "red car"], lang="en")
        b = add(store, "b", ["rote apfel", "roter wagen"], lang="de")
        query = ENC.encode_query(["red apple"])[0]
        by_lang = store.search_vectors(query, 10, langs=["de"])  # 2 chunks: exact from SQLite
        assert {store.fetch_chunks([i])[i]["doc_id"] for i, _ in by_lang} == {b.id}
        by_doc = store.search_vectors(query, 10, docs=[a.id])  # 3 chunks: FAISS with a selector
        assert len(by_doc) == 3
        assert by_doc[0][1] == pytest.approx(1.0)
        assert store.search_vectors(query, 10, langs=["fr"]) == []


def test_embeddings_for_diagnostics(store):
    a = add(store, "a", ["one", "two"], lang="en")
    b = add(store, "b", ["drei"], lang="de")
    corpus = store.embeddings()
    assert corpus.vectors.shape == (3, ENC.dim)
    assert corpus.vectors.dtype == np.float32
    assert corpus.langs == ["en", "en", "de"]
    assert corpus.doc_ids.tolist() == [a.id, a.id, b.id]
    np.testing.assert_allclose(np.linalg.norm(corpus.vectors, axis=1), 1.0, rtol=1e-5)
    assert store.languages() == {"en": 2, "de": 1}


def test_reindex_swaps_atomically_and_resumes(store):
    add(store, "a", ["alpha", "beta", "gamma"])
    new = FakeEncoder(dim=32, model_id="fake-v2")
    todo = store.begin_reindex(new.polylex_id)
    store.stage_embeddings(todo[:2], new.encode_document(store.chunk_texts(list(todo[:2]))))
    # interrupted here: the old model still serves
    assert store.model_id == ENC.polylex_id
    assert store.index.d == ENC.dim
    assert store.search_vectors(ENC.encode_query(["beta"])[0], 1)
    assert any("unfinished reindex" in p for p in store.doctor(repair=False).problems)
    remaining = store.begin_reindex(new.polylex_id)  # resumes: only the last chunk is left
    assert remaining.tolist() == todo[2:].tolist()
    store.stage_embeddings(remaining, new.encode_document(store.chunk_texts(list(remaining))))
    assert store.finish_reindex(new.polylex_id) == 3
    assert store.model_id == "fake-v2"
    assert store.dim == 32
    assert store.index.d == 32
    assert {d.model for d in store.documents()} == {"fake-v2"}
    assert store.doctor(repair=False).ok


def test_two_store_objects_see_each_others_writes(tmp_path):
    with Store.open(tmp_path / "s") as writer, Store.open(tmp_path / "s") as reader:
        add(writer, "a", ["seen by the reader"])
        hits = reader.search_vectors(ENC.encode_query(["seen by the reader"])[0], 1)
        assert hits
        assert hits[0][1] == pytest.approx(1.0)


def test_store_path_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(Exception, match="is a file"):
        Store.open(tmp_path / "file")


def test_chunks_cannot_outlive_their_document(store):
    add(store, "a", ["text"])
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("DELETE FROM documents")


def test_ivf_for_large_stores_trains_adds_and_deletes(tmp_path):
    policy = IndexPolicy(approximate_from=10**9, large="IDMap,IVF4,Flat", large_from=40, large_nprobe=4)
    texts = [f"clause {i} about topic {i % 7} and matter {i % 11}" for i in range(60)]
    with Store.open(tmp_path / "s", policy=policy) as store:
        add(store, "a", texts[:45])
        assert store.index_description().startswith("IDMap,IVF4,Flat")
        b = add(store, "b", texts[45:])  # added to the trained index, no rebuild
        store.delete_document(b.id)  # IVF removes ids in place
        assert faiss_ids(store) == sql_ids(store)
        assert store.doctor(repair=False).ok
        vectors = store.embeddings().vectors
        assert store.search_vectors(vectors[3], 1)[0][1] == pytest.approx(1.0)  # nprobe = all lists: exact
    with Store.open(tmp_path / "s", policy=policy) as store:
        assert faiss.extract_index_ivf(store.index).nprobe == 4


def test_set_language_relabels_the_document_and_its_chunks_only(store):
    a = add(store, "a", ["one", "two"], lang="en")
    b = add(store, "b", ["drei"], lang="de")
    generation, index = store.generation(), store.index
    doc = store.set_language(a.id, "fra")  # ISO 639-3 is stored as its canonical code
    assert (doc.lang, doc.lang_source) == ("fr", "user")
    assert [c["lang"] for c in store.iter_chunks(a.id)] == ["fr", "fr"]
    assert store.document(b.id).lang_source == "detected"
    assert store.languages() == {"fr": 2, "de": 1}
    assert store.generation() == generation
    assert store.index is index
    assert store.search_text("drei", limit=3)
    assert store.doctor(repair=False).ok
    with pytest.raises(ValueError, match="'xx-bogus'"):
        store.set_language(a.id, "xx-bogus")
    with pytest.raises(KeyError, match="99"):
        store.set_language(99, "de")
    assert store.document(a.id).lang == "fr"  # nothing changed by the refused calls


def test_translation_sets_merge_survive_reopening_and_forget_deleted_documents(tmp_path):
    with Store.open(tmp_path / "s") as store:
        ids = [add(store, name, [f"text of {name}"]).id for name in "abcde"]
        assert store.translation_sets() == []
        first = store.mark_translation_set([ids[0], ids[1]])
        second = store.mark_translation_set([ids[3], ids[4]])
        assert first != second
        assert store.translation_set_of(ids[4]) == second
        assert store.mark_translation_set([ids[2], ids[1]]) == first  # sharing document b: one set
        with pytest.raises(ValueError, match="at least two"):
            store.mark_translation_set([ids[2], ids[2]])
        with pytest.raises(KeyError, match="99"):
            store.mark_translation_set([ids[0], 99])
    with Store.open(tmp_path / "s") as store:
        assert store.translation_sets() == [ids[:3], ids[3:]]
        store.delete_document(ids[4])  # its set is left with one document and disappears
        assert store.translation_sets() == [ids[:3]]
        assert store.translation_set_of(ids[3]) is None
        store.unmark_translation_set(first, doc_id=ids[1])
        assert store.translation_sets() == [[ids[0], ids[2]]]
        store.unmark_translation_set(first)
        assert store.translation_sets() == []
        with pytest.raises(KeyError):
            store.unmark_translation_set(first)
        assert store.doctor(repair=False).ok


def test_a_schema_1_store_gets_the_translation_sets_table(tmp_path):
    with Store.open(tmp_path / "s") as store:
        a, b = add(store, "a", ["one"]).id, add(store, "b", ["two"]).id
        store.db["translation_sets"].drop()  # as a store written before schema 2
        store.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        store.db.conn.commit()
    with Store.open(tmp_path / "s") as store:
        assert store._meta("schema") == str(SCHEMA_VERSION)
        assert store.translation_sets() == []
        store.mark_translation_set([a, b])
        assert store.translation_sets() == [[a, b]]


def test_a_schema_2_store_gains_ocr_columns_and_text_hashes_and_keeps_its_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("app.store.MIGRATION_BATCH", 1)  # the chunks are read in pages: one per page here
    with Store.open(tmp_path / "s") as store:
        doc = add(store, "a", ["one", "two"])
        store.db["ocr_pages"].drop()  # as a store written before schema 3
        store.db.execute("DROP INDEX idx_chunks_text_sha")  # and before schema 4
        store.db.execute("ALTER TABLE chunks DROP COLUMN text_sha")
        store.db.execute("ALTER TABLE chunks DROP COLUMN ocr_conf")
        store.db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
        store.db.conn.commit()
    with Store.open(tmp_path / "s") as store:
        assert store._meta("schema") == str(SCHEMA_VERSION) == "5"
        known = store.known_embeddings(ENC.polylex_id, ["one", "two", "three"])  # hashes computed for old rows
        assert sorted(known) == ["one", "two"]
        np.testing.assert_allclose(known["two"], ENC.encode_document(["two"])[0], rtol=1e-6)
        rows = store.fetch_chunks(list(store.chunk_ids()))
        assert sorted(r["text"] for r in rows.values()) == ["one", "two"]
        assert all(r["ocr_conf"] is None for r in rows.values())
        assert store.ocr_page(doc.id, 1) is None
        assert store.original_file(doc.id) is None  # added without its PDF: the page view says so
        assert store.doctor(repair=False).ok


def test_a_schema_4_store_gets_the_keyword_index_of_every_script_and_keeps_its_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("app.store.MIGRATION_BATCH", 1)  # one chunk per page: both pages must be indexed
    with Store.open(tmp_path / "s") as store:
        doc = add(store, "a", ["किताब पढ़ो", "本合同自签字之日起生效 第12条"])
        # as a store written before schema 5: FTS5 with unicode61 over the raw text, no terms column
        store.db["chunks"].disable_fts()
        store.db.execute("ALTER TABLE chunks DROP COLUMN terms")
        store.db["chunks"].enable_fts(["text"], create_triggers=True)
        store.db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
        store.db.conn.commit()
        assert store.search_text("12", limit=3) == []  # unicode61 sees 第12条 as one word
    with Store.open(tmp_path / "s") as store:
        assert store._meta("schema") == "5"
        hindi, chinese = sorted(store.chunk_ids(docs=[doc.id]).tolist())
        assert store.search_text("किताब", limit=3) == [hindi]
        assert store.search_text("合同", limit=3) == store.search_text("12", limit=3) == [chinese]
        assert store.doctor(repair=False).ok


def test_doctor_indexes_passages_written_without_their_keyword_form(store):
    add(store, "zh", ["本合同自签字之日起生效"], lang="zh")
    store.db.execute("UPDATE chunks SET terms = NULL")  # as an older process would have written it
    store.db.conn.commit()
    assert store.search_text("合同", limit=3) == []
    assert store.doctor(repair=False).problems == ["1 passages lack their keyword form (keyword search cannot find them)"]
    assert store.doctor().repaired == ["indexed the keywords of 1 passages"]
    assert len(store.search_text("合同", limit=3)) == 1 and store.doctor(repair=False).ok


def test_opening_a_store_imports_an_old_translation_sets_json_once(store):
    import json

    from app.store import LEGACY_SETS_FILE
    from app.ui_translation_sets import load_sets, mark_set, unmark

    ids = [add(store, name, [f"text of {name}"]).id for name in "abcd"]
    # as the UI wrote it before the store had the table; document 99 was deleted since
    (store.folder / LEGACY_SETS_FILE).write_text(json.dumps({"sets": [[ids[0], ids[1]], [ids[2], 99]]}))
    folder = store.folder
    store.close()
    with Store.open(folder) as reopened:  # what the CLI and the UI both do first
        assert reopened.translation_sets() == [ids[:2]]
        assert not (folder / LEGACY_SETS_FILE).exists()
        assert (folder / (LEGACY_SETS_FILE + ".imported")).exists()
        assert mark_set(reopened, [ids[2], ids[3]]) == [ids[:2], ids[2:]]
        assert unmark(reopened, ids[0]) == [ids[2:]]
        assert unmark(reopened, ids[0]) == [ids[2:]]  # again: no-op
    with Store.open(folder) as again:
        assert load_sets(again) == [ids[2:]]  # the renamed file is not read again


def test_a_language_correction_bumps_the_labels_revision(store):
    doc = add(store, "a", ["text of a"])
    before, generation = store.labels_revision(), store.generation()
    store.set_language(doc.id, "de")
    assert store.labels_revision() == before + 1
    assert store.generation() == generation  # embeddings and index untouched


def test_store_implements_the_store_protocol_with_the_same_signatures(store):
    assert isinstance(store, StoreBackend)
    members = [name for name, value in vars(StoreBackend).items()
               if not name.startswith("_") and (callable(value) or isinstance(value, property))]
    assert "search_vectors" in members
    assert "model_id" in members
    for name in members:
        ours, theirs = getattr(Store, name), getattr(StoreBackend, name)
        if isinstance(theirs, property):
            assert isinstance(ours, property), name
            continue
        assert inspect.signature(ours) == inspect.signature(theirs), name
