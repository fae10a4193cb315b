"""app.search and app.ingest end to end: fake encoder for the arithmetic, the real one across languages."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import ModelMismatch
from app.ingest import ingest_paths
from app.search import encode_query, rrf, search
from app.store import Store
from tests import pdf_factory as factory
from tests.app_helpers import FakeEncoder, real_encoder

pytestmark = pytest.mark.skipif(not factory.fonts_available(),
                                reason=f"Noto fonts missing: apt-get install {factory.DEBIAN_PACKAGES}")


def test_rrf_arithmetic():
    fused = rrf([[1, 2, 3], [3, 9]], k=60)
    assert [item for item, _ in fused] == [3, 1, 2, 9]
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61)


@pytest.fixture
def fake_store(tmp_path):
    """Two documents: English articles 1 and 3 of the UDHR, and the German ones."""
    en = factory.make_pdf(tmp_path / "en.pdf", [factory.UDHR["en"]])
    de = factory.make_pdf(tmp_path / "de.pdf", [factory.UDHR["de"]])
    store = Store.open(tmp_path / "store")
    results = ingest_paths([en, de], store=store, encoder=FakeEncoder())
    assert [r.status for r in results] == ["added", "added"]
    yield store
    store.close()


def test_dense_hits_carry_document_page_heading_and_text(fake_store):
    response = search(fake_store, FakeEncoder(), "the right to life, liberty and security of person", k=2)
    top = response.results[0]
    assert (top.file, top.page, top.heading, top.lang) == ("en.pdf", 1, "Article 3", "en")
    assert top.text.endswith("security of person.")
    assert 0.7 < top.score <= 1.0 + 1e-6  # cosine of normalised vectors
    scores = [hit.score for hit in response.results]
    assert scores == sorted(scores, reverse=True)
    assert response.query_lang == "en"
    assert response.mode == "dense"
    assert set(response.to_dict()) == {"query", "query_lang", "mode", "results"}
    assert {"doc_id", "file", "title", "page", "heading", "lang", "score", "text"} <= set(response.to_dict()["results"][0])


def test_the_response_keeps_the_query_vector_so_diagnostics_need_not_encode_again(fake_store):
    from app.diagnostics import diagnose_search

    class CountingEncoder(FakeEncoder):
        calls = 0

        def encode_query(self, *args, **kwargs):
            CountingEncoder.calls += 1
            return super().encode_query(*args, **kwargs)

    encoder = CountingEncoder()
    response = search(fake_store, encoder, "the right to life", k=2)
    assert response.query_vector is not None
    assert (response.query_vector == encode_query(FakeEncoder(), "the right to life")).all()
    before = CountingEncoder.calls
    diagnose_search(fake_store, encoder, response)
    assert CountingEncoder.calls == before


def test_filters_by_language_and_document(fake_store):
    encoder = FakeEncoder()
    de_only = search(fake_store, encoder, "right to life", langs=["de"])
    assert de_only.results
    assert {h.lang for h in de_only.results} == {"de"}
    doc = fake_store.find_documents("de.pdf")[0].id
    assert {h.doc_id for h in search(fake_store, encoder, "right to life", docs=[doc]).results} == {doc}
    assert search(fake_store, encoder, "right to life", langs=["sw"]).results == []


def test_hybrid_never_drops_dense_hits_bm25_cannot_see(fake_store):
    encoder = FakeEncoder()
    query = "Jeder hat das Recht auf Leben"
    dense = search(fake_store, encoder, query, k=4)
    hybrid = search(fake_store, encoder, query, k=4, mode="hybrid")
    assert {h.chunk_id for h in hybrid.results} == {h.chunk_id for h in dense.results}  # only 4 chunks exist
    assert hybrid.results[0].heading == "Artikel 3"  # first in both rankings
    english = [h for h in hybrid.results if h.lang == "en"]
    assert english, "chunks with no word in common with the query must stay in the fused list"


@pytest.mark.parametrize("kwargs, message", [
    ({"query": "  "}, "the query is empty"),
    ({"query": "x", "mode": "sparse"}, "unknown search mode 'sparse'; valid: dense, hybrid"),
    ({"query": "x", "k": 0}, "k=0"),
])
def test_bad_search_arguments(fake_store, kwargs, message):
    with pytest.raises(ValueError, match=message):
        search(fake_store, FakeEncoder(), **kwargs)


def test_search_with_another_model_is_refused(fake_store):
    with pytest.raises(ModelMismatch, match="reindex"):
        search(fake_store, FakeEncoder(model_id="other"), "right to life")


def test_a_document_in_two_languages_says_so_and_its_chunks_keep_their_own(tmp_path):
    """Half English, half Amharic: the document language is the majority by text, the report gives
    both shares, and every chunk keeps its own language (filters and diagnostics use those)."""
    mixed = factory.make_pdf(tmp_path / "mixed.pdf", [factory.UDHR["en"], factory.UDHR["am"]])
    with Store.open(tmp_path / "store") as store:
        (result,) = ingest_paths([mixed], store=store, encoder=FakeEncoder())
        assert set(result.languages) == {"en", "am"}
        assert all(0.2 < share < 0.8 for share in result.languages.values())
        assert result.lang == max(result.languages, key=result.languages.get)
        assert "en " in result.line() and "am " in result.line() and "%" in result.line()
        assert set(store.languages()) == {"en", "am"}


def test_one_bad_file_does_not_stop_the_batch(tmp_path):
    good = factory.make_pdf(tmp_path / "good.pdf", [factory.UDHR["sw"]])
    bad = factory.make_fake_pdf(tmp_path / "bad.pdf")
    scan = factory.make_scanned_pdf(tmp_path / "scan.pdf")
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    seen = []
    with Store.open(tmp_path / "store") as store:
        results = ingest_paths([bad, good, scan, empty_dir, good], store=store, encoder=FakeEncoder(),
                               progress=lambda fraction, desc="": seen.append((fraction, desc)))
        assert [(r.path.split("/")[-1], r.status) for r in results] == [
            ("nothing", "refused"), ("bad.pdf", "refused"), ("good.pdf", "added"), ("scan.pdf", "refused")]
        assert store.chunk_count() == results[2].chunks
        assert len(store.documents()) == 1
        assert results[2].languages == {"sw": 1.0}
        assert results[2].lang == "sw"
    assert seen[-1][0] == pytest.approx(1.0)
    assert all(0 <= f <= 1 for f, _ in seen)
    assert any("encoding" in desc for _, desc in seen)


def test_reingesting_changes_nothing_and_resaved_copies_are_duplicates(tmp_path):
    path = factory.make_pdf(tmp_path / "a.pdf", [factory.UDHR["en"]], title="first")
    resaved = factory.make_pdf(tmp_path / "b.pdf", [factory.UDHR["en"]], title="another title, same text")
    with Store.open(tmp_path / "store") as store:
        ingest_paths([path], store=store, encoder=FakeEncoder())
        generation = store.generation()
        again = ingest_paths([path, resaved], store=store, encoder=FakeEncoder())
        assert [r.status for r in again] == ["duplicate", "duplicate"]
        assert again[0].reason == "same file as document 1 (a.pdf)"
        assert again[1].reason == "same text as document 1 (a.pdf)"
        assert store.generation() == generation


def test_boilerplate_already_in_the_library_is_not_encoded_again(tmp_path):
    """Two contracts sharing their standard clauses: the second one encodes only its own passages."""
    class Counting(FakeEncoder):
        encoded: list[str] = []

        def encode_document(self, texts, **kwargs):
            self.encoded += list(texts)
            return super().encode_document(texts, **kwargs)

    clauses = [f"Clause {i}. Standard term number {i} of every contract of this office." for i in range(1, 7)]
    first = factory.make_pdf(tmp_path / "first.pdf", [["Contract A between Amina and Baraka.", *clauses]])
    second = factory.make_pdf(tmp_path / "second.pdf", [["Contract B between Chege and Dalia.", *clauses]])
    encoder = Counting()
    with Store.open(tmp_path / "store") as store:
        [a] = ingest_paths([first], store=store, encoder=encoder)
        encoded_first = len(encoder.encoded)
        encoder.encoded.clear()
        [b] = ingest_paths([second], store=store, encoder=encoder)
        assert (a.status, b.status) == ("added", "added")
        rows = store.fetch_chunks(store.embeddings(docs=[b.doc_id]).ids.tolist())
        shared = [r for r in rows.values() if "Standard term" in r["text"] and "Contract" not in r["text"]]
        assert shared, "the test needs passages made only of shared clauses"
        assert not any(r["text"] in encoder.encoded for r in shared)  # reused, not encoded again
        assert len(encoder.encoded) < encoded_first
        corpus = store.embeddings()
        by_text = {}
        for chunk_id, vector in zip(corpus.ids.tolist(), corpus.vectors):
            by_text.setdefault(store.fetch_chunks([chunk_id])[chunk_id]["text"], []).append(vector)
        for vectors in by_text.values():  # the same text has the same vector in both documents
            np.testing.assert_array_equal(vectors[0], vectors[-1])


def test_language_override(tmp_path):
    path = factory.make_pdf(tmp_path / "a.pdf", [factory.UDHR["en"]])
    with Store.open(tmp_path / "store") as store:
        result = ingest_paths([path], store=store, encoder=FakeEncoder(), lang="fr")[0]
        assert (result.lang, result.languages) == ("fr", {"fr": 1.0})
        assert store.languages() == {"fr": result.chunks}
        assert store.documents()[0].lang_source == "user"
        with pytest.raises(ValueError, match="not a language code"):
            ingest_paths([path], store=store, encoder=FakeEncoder(), lang="French")


# --- the real encoder --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    """One PDF per language (en de es ru ar hi am zh sw), UDHR articles 1 and 3, real encoder."""
    folder = tmp_path_factory.mktemp("udhr")
    for lang in factory.UDHR:
        factory.make_pdf(folder / f"udhr-{lang}.pdf", [factory.UDHR[lang]])
    store = Store.open(folder / "store")
    results = ingest_paths([folder], store=store, encoder=real_encoder())
    assert all(r.status == "added" for r in results)
    yield store, {r.path.split("udhr-")[-1][:-4]: r for r in results}
    store.close()


def test_real_ingest_detects_each_documents_language(real_store):
    store, results = real_store
    assert {lang: r.lang for lang, r in results.items()} == {lang: lang for lang in factory.UDHR}
    assert {r.chunks for r in results.values()} == {2}
    assert store.doctor(repair=False).ok


@pytest.mark.parametrize("query, lang", [
    ("Does everyone have a right to life, liberty and security?", "en"),
    ("Каждый ли имеет право на жизнь и свободу?", "ru"),
    ("人人有权享有生命吗？", "zh"),
])
def test_real_search_finds_the_same_article_across_languages(real_store, query, lang):
    store, _ = real_store
    response = search(store, real_encoder(), query, k=6)
    assert response.query_lang == lang
    top = response.results

    def article_3(hit) -> bool:  # in every script the UDHR files use: "Article 3", "Kifungu 3", "第三条", ...
        return hit.text.count("\n") >= 1 and ("3" in hit.heading or "三" in hit.heading)

    # the article on the right to life first, in whichever language (the default model is trained to rank
    # the right passage alike in every language), and in at least three languages among the top six
    assert article_3(top[0]), top[0]
    assert len({h.lang for h in top if article_3(h)}) >= 3


def test_real_hybrid_lifts_the_referenced_article_in_every_language(real_store):
    """"Kifungu 3" (Swahili: article 3): dense search puts Swahili's article 1 second; hybrid looks for
    the number, a language-neutral term, and lifts article 3 in every language that writes it with digits."""
    store, _ = real_store
    dense = search(store, real_encoder(), "Kifungu 3", k=7)
    assert any(h.heading == "Kifungu 1" for h in dense.results)
    hybrid = search(store, real_encoder(), "Kifungu 3", k=7, mode="hybrid")
    assert all(h.heading.replace("المادة", "").strip().endswith("3") for h in hybrid.results), hybrid.results
    assert len({h.lang for h in hybrid.results}) == 7


def test_hybrid_without_a_reference_term_is_dense_search(real_store):
    store, _ = real_store
    query = "Does everyone have a right to life, liberty and security?"
    dense = [h.chunk_id for h in search(store, real_encoder(), query, k=8).results]
    assert [h.chunk_id for h in search(store, real_encoder(), query, k=8, mode="hybrid").results] == dense


def test_hybrid_says_which_exact_terms_each_hit_holds(real_store):
    store, _ = real_store
    hits = search(store, real_encoder(), "Kifungu 3", k=7, mode="hybrid").results
    with_digit = [h for h in hits if "3" in h.text]
    assert with_digit and all("3" in h.matched for h in with_digit)
    assert all(not h.matched for h in search(store, real_encoder(), "Kifungu 3", k=7).results)  # dense: none


def test_a_quoted_phrase_changes_no_rank_and_each_hit_says_whether_it_holds_it(real_store):
    """Hybrid marks the passages that hold the phrase ("liberty and security": English article 3) and ranks as
    dense search does (measured: lifting them lowered natural questions, README); phrases_only keeps just them."""
    store, _ = real_store
    query = 'right to "liberty and security"'
    dense = search(store, real_encoder(), query, k=9).results
    hits = search(store, real_encoder(), query, k=9, mode="hybrid").results
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in dense]
    holding = [h for h in hits if h.matched]
    assert [(h.lang, h.matched) for h in holding] == [("en", ("liberty and security",))]
    assert "Article 3" in holding[0].heading
    only = search(store, real_encoder(), query, k=9, phrases_only=True).results
    assert [h.chunk_id for h in only] == [holding[0].chunk_id] and 0 < only[0].score <= 1  # a cosine
    assert search(store, real_encoder(), '"security and liberty"', k=5, phrases_only=True).results == []
    assert len(search(store, real_encoder(), "liberty and security", k=5, phrases_only=True).results) == 5  # nothing quoted


def test_reference_terms_are_language_neutral():
    from app.search import reference_terms

    terms = reference_terms('Kifungu cha 12 cha "force majeure" (ECOWAS), المادة ١٢')
    assert {"12", "١٢", "१२", "១២"} <= set(terms)  # one number, looked for in every digit system
    assert "ECOWAS" in terms
    assert not {"Kifungu", "cha", "force", "majeure"} & set(terms)  # words of one language, quoted or not
    assert reference_terms("Wer wählt den Bundesrat?") == []
    assert reference_terms("Internet2") == []


def test_the_keyword_side_counts_by_how_much_of_the_query_is_a_reference():
    from app.search import keyword_weight, rrf

    assert keyword_weight("Article 12") == keyword_weight("§ 3") == 1.0
    assert keyword_weight("Kifungu cha 5") == 1.0
    assert keyword_weight("What is meant by Design under the Designs Act, 2000?") == 0.0  # a year in passing
    assert keyword_weight('"শিল্প প্রক্রিয়া দ্বারা আবেদন" মানে কি?') == 1.0  # a quoted phrase is asked for as written
    assert keyword_weight("Who has the right to life?") == 0.0
    # unspaced scripts: a question is many words even without spaces; a reference stays one
    assert keyword_weight("第12条") == keyword_weight("มาตรา 12") == keyword_weight("មាត្រា ១២") == 1.0
    assert keyword_weight("谁在 1886 年与特斯拉合作？") == 0.0
    assert keyword_weight("1466年巴黎有多少人死于瘟疫？") == 0.0
    assert keyword_weight("มีผู้เสียชีวิตจากกาฬโรคกี่คนในปารีสเมื่อปี 1466") == 0.0
    assert keyword_weight("IPCC 为什么表示歉意？") == 0.0
    # a number inside a word is part of a name: Internet2 is not "2" (which every passage with a 2 holds)
    assert keyword_weight("Internet2 nedir?") == 0.0
    assert keyword_weight("Art.12") == keyword_weight("第12条") == 1.0
    dense = list(range(1, 31))  # a keyword hit at dense rank 30: a full-weight list lifts it first, a 0.1 one does not
    assert rrf([dense, [30]], weights=[1.0, 1.0])[0][0] == 30
    assert rrf([dense, [30]], weights=[1.0, 0.1])[0][0] == 1


def test_a_query_in_a_script_no_document_uses_still_searches(real_store):
    """Syriac is a script Polylex serves no language in: the query language is `und`, the search still
    ranks every language's passages, and nothing fails. (Tibetan, used here before, is now served.)"""
    store, _ = real_store
    response = search(store, real_encoder(), "ܒܝܬ ܕܝܢܐ ܘܙܕܩܐ ܕܚܝܐ ܘܕܚܐܪܘܬܐ", k=5)
    assert response.query_lang == "und"
    assert len(response.results) == 5
    assert all(-1.0 <= hit.score <= 1.0 for hit in response.results)


def test_other_languages_finds_the_same_article_in_every_language(real_store):
    """The passage's own vector as the query, its document left out: the best passage of each language."""
    from app.search import other_languages

    store, _ = real_store
    swahili = next(i for i, row in store.fetch_chunks(store.embeddings(langs=["sw"]).ids.tolist()).items()
                   if row["heading"] == "Kifungu 3")
    hits = other_languages(store, swahili)
    assert {h.lang for h in hits} == set(factory.UDHR) - {"sw"}  # one per language; Swahili has no other document
    assert all(h.file != "udhr-sw.pdf" for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert sum("3" in h.heading or "三" in h.heading for h in hits) >= 7, [(h.lang, h.heading) for h in hits]
    with pytest.raises(KeyError):
        other_languages(store, 10**9)


def test_placing_within_languages_keeps_each_rank_s_language_and_score():
    from app.search import place_within_languages

    ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (5, 0.5)]
    lang_of = {1: "en", 2: "fr", 3: "en", 4: "fr", 5: "de", 6: "fr", 7: "sw"}
    placed = place_within_languages(ranked, [6, 3, 7], lang_of)  # 6 and 7 come from beyond the dense list
    assert [lang_of[i] for i, _ in placed[:5]] == ["en", "fr", "en", "fr", "de"]
    assert [score for _, score in placed[:5]] == [0.9, 0.8, 0.7, 0.6, 0.5]
    assert [i for i, _ in placed] == [3, 6, 1, 2, 5, 4, 7]  # 3 and 6 first in their language; 4 moves behind
    assert [i for i, _ in place_within_languages(ranked, [4, 2], lang_of)][:4] == [1, 2, 3, 4]  # meaning orders them
    assert place_within_languages(ranked, [], lang_of) == ranked
