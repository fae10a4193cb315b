# Over 400 lines: one behaviour test per diagnostic on shared fixtures (fake and real encoders, a demo store).
"""app.diagnostics: exact values on hand-made embeddings, the real encoder on parallel sentences,
the store adapter end to end, and every figure renders."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app import diagnostics as dg
from app.diagnostics import ChunkInfo, DocChunks

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Parallel legal sentences written for this test: line i is the same sentence in every language.
PARALLEL = {
    "en": ["The Federal Council shall consist of seven members.",
           "Every person has the right to a fair trial before an independent court.",
           "The lease ends on the last day of the month after written notice.",
           "Taxes shall be levied only on the basis of a law.",
           "The seller must deliver the goods free of defects.",
           "Children have the right to free primary education."],
    "de": ["Der Bundesrat besteht aus sieben Mitgliedern.",
           "Jede Person hat Anspruch auf ein faires Verfahren vor einem unabhängigen Gericht.",
           "Der Mietvertrag endet nach schriftlicher Kündigung am letzten Tag des Monats.",
           "Steuern dürfen nur auf Grund eines Gesetzes erhoben werden.",
           "Der Verkäufer muss die Ware frei von Mängeln liefern.",
           "Kinder haben Anspruch auf unentgeltlichen Grundschulunterricht."],
    "fr": ["Le Conseil fédéral se compose de sept membres.",
           "Toute personne a droit à un procès équitable devant un tribunal indépendant.",
           "Le bail prend fin le dernier jour du mois après un congé écrit.",
           "Les impôts ne peuvent être perçus qu'en vertu d'une loi.",
           "Le vendeur doit livrer la marchandise exempte de défauts.",
           "Les enfants ont droit à un enseignement primaire gratuit."],
    "sw": ["Baraza la Shirikisho litakuwa na wajumbe saba.",
           "Kila mtu ana haki ya kusikilizwa kwa haki mbele ya mahakama huru.",
           "Mkataba wa kupanga unaisha siku ya mwisho ya mwezi baada ya notisi ya maandishi.",
           "Kodi zitatozwa tu kwa msingi wa sheria.",
           "Muuzaji lazima apeleke bidhaa zisizo na kasoro.",
           "Watoto wana haki ya kupata elimu ya msingi bila malipo."],
}
UNRELATED_EN = ["The museum opens at nine o'clock on weekdays.",
                "Heavy rain is expected in the mountains tomorrow.",
                "She planted tomatoes and beans in the garden."]


def topic_corpus(docs: dict[str, tuple[str, list[int]]], *, lang_weight: float = 0.3):
    """Fake embeddings: chunk = normalise(e[topic] + lang_weight * e[language]).

    ``docs`` maps a document id to ``(lang, [topic of each chunk])``. Same topic in two languages:
    cosine 1 / (1 + w^2) = 0.917; other topic, same language: w^2 / (1 + w^2) = 0.083; else 0.
    Returns ``(chunks, embeddings)`` with chunk ids 100, 101, ... in document order.
    """
    langs = sorted({lang for lang, _ in docs.values()})
    n_topics = 1 + max(t for _, topics in docs.values() for t in topics)
    chunks, rows = [], []
    for doc, (lang, topics) in docs.items():
        for topic in topics:
            vector = np.zeros(n_topics + len(langs))
            vector[topic] = 1.0
            vector[n_topics + langs.index(lang)] = lang_weight
            rows.append(vector / np.linalg.norm(vector))
            chunks.append(ChunkInfo(100 + len(chunks), doc, lang, 1))
    return chunks, np.array(rows, dtype=np.float32)


def doc_chunks_of(chunks, embeddings) -> dict:
    out: dict = {}
    for row, chunk in enumerate(chunks):
        out.setdefault(chunk.doc_id, (chunk.lang, []))[1].append(embeddings[row])
    return {doc: DocChunks(lang, np.array(vectors)) for doc, (lang, vectors) in out.items()}


# --- 1. language shares --------------------------------------------------------------------


def test_language_shares_exact():
    shares = dg.language_shares(["de", "de", "en"], ["de", "en", "en", "fr"])
    assert shares.languages == ["en", "de", "fr"]  # by corpus share, then code
    assert shares.result_share == pytest.approx([1 / 3, 2 / 3, 0])
    assert shares.corpus_share == pytest.approx([0.5, 0.25, 0.25])
    assert shares.total_variation == pytest.approx(0.5 * (1 / 6 + 5 / 12 + 1 / 4))
    assert shares.max_over_representation == pytest.approx(8 / 3)
    assert shares.most_over_represented == "de"
    assert shares.k == 3
    assert dg.language_shares(["de", "de", "en"], {"de": 1, "en": 2, "fr": 1}).total_variation == pytest.approx(
        shares.total_variation)


def test_language_shares_mirror_and_disjoint():
    assert dg.language_shares(["en", "de"], ["de", "en"]).total_variation == 0
    assert dg.language_shares(["sw"], ["de", "en"]).total_variation == 1
    assert np.isinf(dg.language_shares(["sw"], ["de", "en"]).max_over_representation)
    assert np.isnan(dg.language_shares([], ["de"]).total_variation)
    with pytest.raises(ValueError, match="corpus_langs is empty"):
        dg.language_shares(["de"], [])


# --- rankings, alignment, detection ---------------------------------------------------------


def test_full_ranks_are_one_based_and_ties_go_to_the_earlier_row():
    embeddings = np.array([[0.1], [0.9], [0.5], [0.9]])
    assert dg.full_ranks(np.array([1.0]), embeddings).tolist() == [4, 1, 3, 2]


def test_mutual_best_pairs():
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])
    b = np.array([[0.6, 0.8], [1.0, 0.0]])
    # a0 <-> b1 (1.0) and a2 <-> b0 (0.96); a1's best is b0 (0.8), but b0 prefers a2.
    assert dg.mutual_best_pairs(a, b, min_similarity=0) == [(0, 1, pytest.approx(1.0)), (2, 0, pytest.approx(0.96))]
    assert [(i, j) for i, j, _ in dg.mutual_best_pairs(b, a, min_similarity=0)] == [(0, 2), (1, 0)]
    assert dg.mutual_best_pairs(a, b, min_similarity=0.97) == [(0, 1, pytest.approx(1.0))]
    assert dg.mutual_best_pairs(a, np.zeros((0, 2))) == []


def test_alignment_coverage_counts_mutual_matches_over_the_longer_document():
    chunks, embeddings = topic_corpus({"A": ("en", [0, 1]), "B": ("de", [0, 1, 2, 3]), "C": ("en", [4])})
    docs, coverage = dg.alignment_coverage(doc_chunks_of(chunks, embeddings), min_aligned=1)
    assert docs == ["A", "B", "C"]
    # A's topics 0 and 1 align with B's; B's chunks 2 and 3 have nothing in English: 2 / 4.
    assert coverage[0, 1] == coverage[1, 0] == pytest.approx(0.5)
    assert coverage[0, 2] == 0  # same language: no evidence
    # C (topic 4) is orthogonal to all of B; its best German chunk (B's first, by tie) prefers A's.
    assert coverage[1, 2] == 0


def test_detect_translation_sets_on_topic_embeddings():
    chunks, embeddings = topic_corpus({
        "law1.en": ("en", [0, 1, 2]), "law1.de": ("de", [0, 1, 2]), "law1.fr": ("fr", [0, 1, 2]),
        "law2.en": ("en", [3, 4, 5, 6]), "law2.de": ("de", [3, 4, 5, 6]),
        "other.fr": ("fr", [7, 8]),
    })
    sets = dg.detect_translation_sets(doc_chunks_of(chunks, embeddings))
    assert sets == [frozenset({"law1.en", "law1.de", "law1.fr"}), frozenset({"law2.en", "law2.de"})]


def test_detection_needs_most_chunks_aligned():
    # B shares only 1 of 4 topics with A (coverage 0.25): not a translation at the default threshold.
    chunks, embeddings = topic_corpus({"A": ("en", [0, 1, 2, 3]), "B": ("de", [0, 5, 6, 7])})
    assert dg.detect_translation_sets(doc_chunks_of(chunks, embeddings)) == []
    assert dg.detect_translation_sets(doc_chunks_of(chunks, embeddings), min_coverage=0.25, min_aligned=1) == [
        frozenset("AB")]
    with pytest.raises(ValueError, match="min_coverage"):
        dg.detect_translation_sets({}, min_coverage=0)


def test_average_linkage_keeps_a_chance_link_from_merging_two_sets():
    # One pair across the two sets aligns fully (2.fr repeats 1.en's topics in its second half),
    # but the groups' mean coverage stays low, so the sets stay apart.
    chunks, embeddings = topic_corpus({
        "1.en": ("en", [0, 1]), "1.de": ("de", [0, 1]),
        "2.fr": ("fr", [2, 3]), "2.sw": ("sw", [2, 3]),
        "x.fr": ("fr", [0, 1]),
    })
    docs, coverage = dg.alignment_coverage(doc_chunks_of(chunks, embeddings), min_aligned=1)
    assert coverage[docs.index("1.en"), docs.index("x.fr")] == 1.0
    sets = dg.detect_translation_sets(doc_chunks_of(chunks, embeddings), min_aligned=1)
    assert frozenset({"2.fr", "2.sw"}) in sets
    assert not any({"1.en", "2.fr"} <= s for s in sets)


def test_a_mutual_match_must_stand_out_from_the_other_pairings():
    # Two unrelated documents of one kind, each alone in its language: every chunk is mostly the
    # shared "legal text" direction, and chunk i of A leans a little towards chunk i of B, so the
    # best matches are all mutual (cosine 0.919 against 0.915 for the other pairings).
    genre, own, lean = np.eye(12)[0], np.eye(12)[1:7], np.eye(12)[7:10]
    a = np.array([genre + 0.3 * own[i] + 0.05 * lean[i] for i in range(3)])
    b = np.array([genre + 0.3 * own[3 + i] + 0.05 * lean[i] for i in range(3)])
    docs = {"A": DocChunks("en", a / np.linalg.norm(a, axis=1, keepdims=True)),
            "B": DocChunks("de", b / np.linalg.norm(b, axis=1, keepdims=True))}
    assert dg.alignment_coverage(docs, min_margin=0)[1][0, 1] == 1.0  # mutual best matching alone
    assert dg.alignment_coverage(docs)[1][0, 1] == 0  # 0.05 of the room above the others: not aligned
    assert dg.detect_translation_sets(docs) == []
    assert (dg.detect_translation_sets(docs, min_margin=0) == [
        frozenset("AB")])


def test_two_chunk_documents_are_never_linked_by_default():
    chunks, embeddings = topic_corpus({"A": ("en", [0, 1]), "B": ("de", [0, 1])})
    assert dg.detect_translation_sets(doc_chunks_of(chunks, embeddings)) == []
    assert dg.detect_translation_sets(doc_chunks_of(chunks, embeddings), min_aligned=2) == [frozenset("AB")]


# --- 2. rank distance of translations -------------------------------------------------------


def rank_distance_case():
    """Topic 0 in en/de/fr, topic 1 in en/de/fr, a distractor (topic 3, en) and law2 (topic 4, de)."""
    chunks, embeddings = topic_corpus({
        "en": ("en", [0, 1]), "de": ("de", [0, 1]), "fr": ("fr", [0, 1]),
        "distractor": ("en", [3]), "law2": ("de", [4]),
    })
    # Unnormalised query . chunk: topic-0 en 1 + .3*.5 = 1.15, de 1 + .3*.2 = 1.06, fr 1.0,
    # distractor 0.9 + 0.15 = 1.05; so ranks: en 1, de 2, distractor 3, fr 4.
    n_topics = 5
    query = np.zeros(n_topics + 3)
    query[0], query[3] = 1.0, 0.9
    query[n_topics:] = [0.2, 0.5, 0.0]  # de, en, fr (sorted language order); chunks carry 0.3 of theirs
    return chunks, embeddings, query


def test_translation_rank_distance_exact():
    chunks, embeddings, query = rank_distance_case()
    ids = {(c.doc_id, i): c.chunk_id for i, c in enumerate(chunks)}
    en0, de0, fr0, distractor = ids["en", 0], ids["de", 2], ids["fr", 4], ids["distractor", 6]
    sets = [{"en", "de", "fr"}, {"law2", "nowhere"}]
    found = dg.translation_rank_distances(query, embeddings, chunks, sets, [en0, distractor, fr0])
    assert len(found) == 1  # the set appears once, anchored at its first result; law2 has no result
    item = found[0]
    assert item.anchor_chunk_id == en0
    assert item.docs == ("de", "en", "fr")
    assert [(v.lang, v.chunk_id, v.rank) for v in item.versions] == [("en", en0, 1), ("de", de0, 2), ("fr", fr0, 4)]
    assert (item.distance, item.floor) == (3, 2)


def test_translation_rank_distance_skips_lone_anchor_and_checks_rows():
    chunks, embeddings, query = rank_distance_case()
    assert dg.translation_rank_distances(query, embeddings, chunks, [{"law2", "gone"}], [chunks[-1].chunk_id]) == []
    with pytest.raises(ValueError, match="embedding rows"):
        dg.translation_rank_distances(query, embeddings[:-1], chunks, [], [])


# --- 3. bias matrix -------------------------------------------------------------------------


def test_bias_matrix_exact():
    # Candidates are the identity, so a query vector *is* its score row.
    candidates = np.eye(5, dtype=np.float32)
    candidate_langs = ["en", "de", "en", "en", "fr"]  # rows 0/1 are parallel; 2, 3 unrelated; 4 alone
    queries = np.array([
        [1.0, 0.7, 0.9, 0.8, 0.0],   # en query: en text first, de below both unrelated chunks -> gap 2
        [0.85, 0.95, 0.9, 0.1, 0.0],  # de query: de first, en below one unrelated chunk -> gap 1
        [0.0, 0.0, 0.5, 0.0, 1.0],   # fr query with only itself relevant
    ], dtype=np.float32)
    matrix = dg.bias_matrix(queries, ["en", "de", "fr"], candidates, candidate_langs, [[0, 1], [0, 1], [4]])
    assert matrix.languages == ["de", "en", "fr"]
    nan = np.nan
    np.testing.assert_array_equal(matrix.gap, [[0, 1, nan], [2, 0, nan], [nan, nan, 0]])
    np.testing.assert_array_equal(matrix.counts, [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    assert matrix.off_diagonal_mean() == pytest.approx(1.5)
    with pytest.raises(ValueError, match="equally many"):
        dg.bias_matrix(queries, ["en"], candidates, candidate_langs, [[0, 1]])


def test_parallel_queries_from_mutual_alignment():
    chunks, embeddings = topic_corpus({"A": ("en", [0, 1, 2]), "B": ("de", [1, 0]), "C": ("fr", [9])})
    queries = dg.parallel_queries(embeddings, chunks, [{"A", "B"}, {"C"}])
    # A0 <-> B1, A1 <-> B0; A2 has no partner in B; C's set has one document.
    assert [(q.row, q.relevant) for q in queries] == [(0, [0, 4]), (1, [1, 3]), (3, [1, 3]), (4, [0, 4])]


def test_select_queries_spreads_evenly_per_language():
    queries = [dg.ParallelQuery(row, [row]) for row in range(10)]
    langs = ["en"] * 7 + ["de"] * 3
    chosen = dg.select_queries(queries, langs, per_language=3)
    assert [q.row for q in chosen] == [0, 3, 6, 7, 8, 9]


class RecordingEncoder:
    """Encodes a query text to the stored embedding of the chunk it came from (exact scores)."""

    def __init__(self, vectors_by_text: dict[str, np.ndarray]) -> None:
        self.vectors_by_text = vectors_by_text
        self.calls: list[list[str]] = []

    def encode_query(self, inputs, **_: object) -> np.ndarray:
        self.calls.append(list(inputs))
        return np.array([self.vectors_by_text[text] for text in inputs])


def test_corpus_bias_matrix_encodes_once_with_truncated_texts():
    chunks, embeddings = topic_corpus({"A": ("en", [0, 1]), "B": ("de", [0, 1])})
    texts = ["alpha" * 10, "beta" * 10, "gamma" * 10, "delta" * 10]
    encoder = RecordingEncoder({text[:7]: embeddings[row] for row, text in enumerate(texts)})
    matrix = dg.corpus_bias_matrix(encoder, texts, embeddings, chunks, [{"A", "B"}], query_chars=7)
    assert encoder.calls == [[text[:7] for text in texts]]
    assert matrix.languages == ["de", "en"]
    # Queries are the chunks themselves: own text first, translation right behind, no unrelated
    # chunk between them except the other topic in the query's language (0.083 < 0.917): gap 0.
    np.testing.assert_array_equal(matrix.gap, np.zeros((2, 2)))
    np.testing.assert_array_equal(matrix.counts, np.full((2, 2), 2))

    fetched: list[list[int]] = []

    def fetch(ids: list[int]) -> list[str]:
        fetched.append(ids)
        return [texts[c.chunk_id - 100] for c in chunks if c.chunk_id in ids]

    again = dg.corpus_bias_matrix(RecordingEncoder(encoder.vectors_by_text), fetch, embeddings, chunks, [{"A", "B"}],
                                  query_chars=7)
    assert fetched == [[100, 101, 102, 103]]
    np.testing.assert_array_equal(again.gap, matrix.gap)


def test_corpus_bias_matrix_without_translations_is_empty():
    chunks, embeddings = topic_corpus({"A": ("en", [0])})
    matrix = dg.corpus_bias_matrix(RecordingEncoder({}), ["x"], embeddings, chunks, [])
    assert matrix.languages == []
    assert matrix.gap.shape == (0, 0)
    assert np.isnan(matrix.off_diagonal_mean())


# --- figures ---------------------------------------------------------------------------------


def assert_png(diagnostic: dg.Diagnostic) -> bytes:
    png = dg.figure_png(diagnostic.figure)
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 2000
    assert diagnostic.title
    assert any(word in diagnostic.explanation for word in ("good", "ideal", "best possible"))
    return png


def test_every_figure_renders_including_empty_ones():
    chunks, embeddings, query = rank_distance_case()
    shares = dg.plot_language_shares(dg.language_shares(["en", "de"], ["en", "en", "de", "fr"]))
    assert shares.title == "Languages in the top 2 vs. the library"
    assert "total variation" in shares.explanation
    items = dg.translation_rank_distances(query, embeddings, chunks, [{"en", "de", "fr"}], [chunks[0].chunk_id])
    distances = dg.plot_rank_distances(items, titles={"en": "Tenancy Act"})
    assert distances.data == items
    assert "minus one" in distances.explanation
    assert [t.get_text() for t in distances.figure.axes[0].get_yticklabels()] == ["Tenancy Act"]
    matrix = dg.bias_matrix(np.eye(2), ["en", "sw"], np.eye(2), ["en", "sw"], [[0, 1], [0, 1]])
    heatmap = dg.plot_bias_matrix(matrix)
    assert [t.get_text() for t in heatmap.figure.axes[0].get_xticklabels()] == ["English", "Swahili"]
    empty_matrix = dg.BiasMatrix([], np.zeros((0, 0)), np.zeros((0, 0), dtype=np.int64))
    for diagnostic in [shares, distances, heatmap, dg.plot_rank_distances([]), dg.plot_bias_matrix(empty_matrix)]:
        assert_png(diagnostic)


def test_rank_axis_has_plain_integer_labels():
    chunks, embeddings, query = rank_distance_case()
    items = dg.translation_rank_distances(query, embeddings, chunks, [{"en", "de", "fr"}], [chunks[0].chunk_id])
    axes = _drawn(dg.plot_rank_distances(items).figure).axes[0]
    low, high = axes.get_xlim()
    shown = [label.get_text() for label in axes.get_xticklabels() if low <= label.get_position()[0] <= high]
    assert shown == ["1", "2"]  # ranks 1-4 on a log axis; matplotlib alone writes 10⁰ and 2×10⁰
    assert not any(label.get_text() for label in axes.get_xticklabels(minor=True))
    assert dg.plot_rank_distances([]).title == "Rank distance of translations (none among the results)"  # not "mean nan"


def _drawn(figure):
    """The figure laid out and drawn (``Figure()`` made without pyplot has no renderer of its own)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    return figure


def _overlaps(figure, legend, artists) -> list:
    renderer = figure.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    return [a for a in artists if box.overlaps(a.get_window_extent(renderer))]


def test_legends_stay_off_the_bars():
    # A language with nearly all of the results and of the library: its bars reach the top.
    shares = dg.plot_language_shares(dg.language_shares(["en"] * 9 + ["de"], {"en": 90, "de": 5, "fr": 5}))
    axes = _drawn(shares.figure).axes[0]
    assert axes.get_legend()
    assert not _overlaps(shares.figure, axes.get_legend(), axes.patches)

    from app.ui_library import language_chart

    figure = _drawn(language_chart({"en": 120, "de": 50, "sw": 10}, {"en": 3, "de": 1, "sw": 1}))
    axes = figure.axes[0]
    assert axes.get_legend()
    assert not _overlaps(figure, axes.get_legend(), [*axes.patches, *axes.texts])


def test_figures_go_into_gradio_plot():
    gr = pytest.importorskip("gradio")
    diagnostic = dg.plot_language_shares(dg.language_shares(["en"], ["en", "de"]))
    shown = gr.Plot().postprocess(diagnostic.figure)
    assert shown.type == "matplotlib"
    assert shown.plot.startswith("data:image/")
    assert len(shown.plot) > 1000


# --- the store adapter, end to end ----------------------------------------------------------


def test_diagnostics_from_a_real_store(tmp_path):
    from app.ingest import ingest_paths
    from app.search import search
    from app.store import Store
    from tests import pdf_factory as factory
    from tests.app_helpers import FakeEncoder

    if not factory.fonts_available():
        pytest.skip(f"Noto fonts missing: apt-get install {factory.DEBIAN_PACKAGES}")
    en = factory.make_pdf(tmp_path / "en.pdf", [factory.UDHR["en"]])
    de = factory.make_pdf(tmp_path / "de.pdf", [factory.UDHR["de"]])
    encoder = FakeEncoder()
    with Store.open(tmp_path / "store") as store:
        ingest_paths([en, de], store=store, encoder=encoder)
        corpus = dg.load_corpus(store)
        assert len(corpus.chunks) == store.chunk_count() == len(corpus.embeddings)
        assert set(corpus.doc_langs.values()) == {"en", "de"}
        marked = [set(corpus.doc_langs)]  # the user marks the two as translations
        response = search(store, encoder, "the right to life, liberty and security of person", k=3)
        shares, distances = dg.diagnose_search(store, encoder, response, translation_sets=marked)
        assert shares.data.k == 3
        assert set(shares.data.languages) == {"en", "de"}
        assert len(distances.data) == 1
        assert {v.lang for v in distances.data[0].versions} == {"en", "de"}
        heatmap = dg.diagnose_corpus(store, encoder, translation_sets=marked)
        assert heatmap.data.languages in ([], ["de", "en"])  # bag-of-words knows no translations
        for diagnostic in (shares, distances, heatmap):
            assert_png(diagnostic)
        # Without sets given, the diagnostics read the sets marked in the store.
        assert dg.translation_sets_of(corpus, store=store) == dg.detect_translation_sets(corpus.doc_chunks())
        store.mark_translation_set(list(corpus.doc_langs))
        assert dg.translation_sets_of(corpus, store=store) == [frozenset(corpus.doc_langs)]
        _, from_store = dg.diagnose_search(store, encoder, response, corpus=corpus)
        assert from_store.data == distances.data


# --- the real default encoder ---------------------------------------------------------------


@pytest.fixture(scope="module")
def parallel_corpus():
    from tests.app_helpers import real_encoder

    encoder = real_encoder()
    chunks, texts = [], []
    for lang, sentences in [*PARALLEL.items(), ("en", UNRELATED_EN)]:
        doc = f"{lang}-unrelated" if sentences is UNRELATED_EN else f"law.{lang}"
        for sentence in sentences:
            chunks.append(ChunkInfo(len(chunks), doc, lang))
            texts.append(sentence)
    embeddings = np.asarray(encoder.encode_document(texts, batch_size=32))
    return encoder, chunks, texts, embeddings


def test_real_encoder_detects_the_translation_set(parallel_corpus):
    _, chunks, _, embeddings = parallel_corpus
    assert dg.detect_translation_sets(doc_chunks_of(chunks, embeddings)) == [
        frozenset({"law.en", "law.de", "law.fr", "law.sw"})]


def test_real_encoder_bias_matrix(parallel_corpus):
    encoder, chunks, texts, embeddings = parallel_corpus
    sets = dg.detect_translation_sets(doc_chunks_of(chunks, embeddings))
    matrix = dg.corpus_bias_matrix(encoder, texts, embeddings, chunks, sets)
    assert matrix.languages == ["de", "en", "fr", "sw"]
    assert matrix.gap.shape == (4, 4)
    assert np.isfinite(matrix.gap).all()
    np.testing.assert_array_equal(np.diag(matrix.gap), 0)  # the query's own text is its own-language version
    assert (matrix.gap >= 0).all()  # the own-language version ranks at or above every translation
    assert (matrix.counts == 6).all()  # every sentence aligns with its translations
    # 30 candidates, 4 of them relevant: an unbiased ranking would give 0; it must not be at chance.
    assert matrix.off_diagonal_mean() < 3
    heatmap = dg.plot_bias_matrix(matrix)
    assert [t.get_text() for t in heatmap.figure.axes[0].get_yticklabels()] == ["German", "English", "French", "Swahili"]
    assert_png(heatmap)


def test_real_encoder_rank_distance_for_a_query(parallel_corpus):
    encoder, chunks, _, embeddings = parallel_corpus
    query = encoder.encode_query(["Who may end a lease, and with what notice?"])[0]
    ranks = dg.full_ranks(query, embeddings)
    results = [chunks[row].chunk_id for row in np.argsort(ranks)[:3]]
    found = dg.translation_rank_distances(query, embeddings, chunks, [{"law.en", "law.de", "law.fr", "law.sw"}],
                                          results)
    assert len(found) == 1
    versions = found[0].versions
    assert {v.lang for v in versions} == {"en", "de", "fr", "sw"}
    assert {v.chunk_id for v in versions} == {c.chunk_id for i, c in enumerate(chunks)
                                              if c.doc_id.startswith("law.") and i % 6 == 2}  # the lease sentence
    assert found[0].distance >= found[0].floor == 3



# --- the demo library with the real default encoder -----------------------------------------


@pytest.fixture(scope="module")
def demo_laws():
    """``(full, short)`` of :func:`app.demo_corpus.demo_law_versions` with the default encoder."""
    from app.demo_corpus import demo_law_versions
    from tests.app_helpers import real_encoder

    return demo_law_versions(real_encoder())


def _law(name: str) -> str:
    return name.split(".")[0]


def test_unrelated_short_laws_are_not_translations(demo_laws):
    """The browser test's library: a Swahili tenancy act (title, Kifungu 2, Kifungu 3) and a German
    data-protection act (title, Artikel 1, Artikel 2). Titles align with titles and one article
    with another, which made them a "translation set" at coverage 0.67."""
    _, short = demo_laws
    pair = {name: short[name] for name in ("tenancy.sw@2", "data-protection.de@1")}
    assert len(pair["tenancy.sw@2"].embeddings) == len(pair["data-protection.de@1"].embeddings) == 3
    assert dg.detect_translation_sets(pair, min_coverage=0.6, min_margin=0, min_aligned=1) == [frozenset(pair)]  # before
    assert dg.detect_translation_sets(pair) == []
    for a, b in itertools.combinations(short, 2):  # no two three-chunk versions of different laws
        if _law(a) != _law(b) and short[a].lang != short[b].lang:
            assert dg.detect_translation_sets({a: short[a], b: short[b]}) == [], (a, b)


def test_the_demo_library_gives_its_two_sets_and_small_libraries_rarely_mix_them(demo_laws):
    full, _ = demo_laws
    assert dg.detect_translation_sets(full) == [frozenset(n for n in full if n.startswith("tenancy.")),
                                                frozenset(n for n in full if n.startswith("data-protection."))]

    def mixed(**rule) -> list:
        """Libraries of 2 or 3 demo laws (each more alone in its language) where a set mixes the laws."""
        return [names for size in (2, 3) for names in itertools.combinations(full, size)
                if any(len({_law(n) for n in found}) > 1
                       for found in dg.detect_translation_sets({n: full[n] for n in names}, **rule))]

    before = mixed(min_coverage=0.6, min_margin=0, min_aligned=1)
    after = mixed()
    # The old rule (coverage 0.6, no margin, one aligned chunk) mixed the laws in 122 of these 220 small
    # libraries with the untuned encoder (the demo note is parallel in every law, "Article 1" matches
    # "Article 1"); the fine-tuned default keeps them apart better by itself (9). The rule in force
    # never mixes more than the old one.
    assert len(after) <= len(before)
    # Left with the untuned encoder: Nepali data protection with Amharic tenancy (article 1 of one as
    # near article 1 of the other, 0.90, as translations are). The distilled default aligns languages
    # more closely still: at the old margin 0.2 it mixed 8 of 220; at 0.25 (MIN_MARGIN, measured on
    # these libraries, see its note) none.
    assert len(after) <= 2, after
