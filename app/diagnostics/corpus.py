"""The one adapter that reads the diagnostics' inputs from ``app.store``, and the entry points the UI
calls: ``diagnose_results``/``diagnose_search`` for one search, ``diagnose_corpus`` for the library."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.diagnostics.alignment import DocChunks, detect_translation_sets
from app.diagnostics.bias import corpus_bias_matrix, plot_bias_matrix
from app.diagnostics.common import ChunkInfo, Diagnostic, DocId, QueryEncoder, _rows_by_doc
from app.diagnostics.rank_distance import plot_rank_distances, translation_rank_distances
from app.store_protocol import StoreBackend
from app.diagnostics.shares import language_shares, plot_language_shares
from trainer.encoder import Encoder


@dataclass
class Corpus:
    """What the diagnostics read from a store: one ``ChunkInfo`` per embedding row, document titles
    and document languages (a document's own language, which the user may have corrected)."""

    chunks: list[ChunkInfo]
    embeddings: np.ndarray
    titles: dict[DocId, str]
    doc_langs: dict[DocId, str]

    def doc_chunks(self) -> dict[DocId, DocChunks]:
        """Input for ``detect_translation_sets``."""
        return {doc: DocChunks(self.doc_langs.get(doc, self.chunks[rows[0]].lang), self.embeddings[rows])
                for doc, rows in _rows_by_doc(self.chunks).items()}


def load_corpus(store: StoreBackend) -> Corpus:
    """Read chunk labels, embeddings, titles and languages from an ``app.store.Store``.

    A chunk whose language was not identified (``und``: short or mixed text) takes its document's
    language, so the charts show no "unknown language" row for a heading-sized chunk. Pages are left
    out (``None``): no diagnostic needs them, and reading them would read every chunk's text.
    """
    from app.langid import UND

    table = store.embeddings()
    documents = store.documents()
    doc_lang = {d.id: d.lang for d in documents}
    chunks = [ChunkInfo(int(cid), int(doc), doc_lang.get(int(doc), lang) if lang == UND else lang)
              for cid, doc, lang in zip(table.ids, table.doc_ids, table.langs)]
    return Corpus(chunks=chunks, embeddings=np.asarray(table.vectors, dtype=np.float32),
                  titles={d.id: d.title or d.file for d in documents}, doc_langs=doc_lang)


def translation_sets_of(corpus: Corpus, marked: Iterable[Iterable[DocId]] | None = None, *,
                        store: StoreBackend = None) -> list[frozenset]:
    """User-marked translation sets, plus the detected ones among the documents no mark covers.

    The marked sets are ``marked`` when given, else those stored in ``store``
    (``Store.translation_sets()``, read now: marking a set does not change the store's generation,
    so a cached ``corpus`` cannot hold them).
    """
    if marked is None:
        marked = store.translation_sets() if store is not None else ()
    marked = [frozenset(s) for s in marked if len(set(s)) >= 2]
    covered = set().union(*marked) if marked else set()
    unmarked = {doc: d for doc, d in corpus.doc_chunks().items() if doc not in covered}
    return marked + detect_translation_sets(unmarked)


def diagnose_results(
    store: StoreBackend,
    query_vector: np.ndarray,
    result_chunk_ids: Sequence[int],
    *,
    langs: Sequence[str] | None = None,
    translation_sets: Iterable[Iterable[DocId]] | None = None,
    corpus: Corpus | None = None,
) -> list[Diagnostic]:
    """The two charts of one search: language shares and rank distance of translations.

    Args:
        store: an open ``app.store.Store``.
        query_vector: the query's embedding (``encode_query``), as the search used it.
        result_chunk_ids: the result list, best first.
        langs: the search's language filter (the corpus side of the shares is restricted to it).
        translation_sets: user-marked sets (default: those stored in ``store``); documents outside
            them are grouped by detection.
        corpus: a ``load_corpus`` result to reuse between searches.
    """
    corpus = corpus or load_corpus(store)
    lang_of = {c.chunk_id: c.lang for c in corpus.chunks}
    corpus_langs = Counter(c.lang for c in corpus.chunks if not langs or c.lang in langs)
    result_langs = [lang_of[i] for i in result_chunk_ids if i in lang_of]
    shares = plot_language_shares(language_shares(result_langs, corpus_langs))
    sets = translation_sets_of(corpus, translation_sets, store=store)
    distances = translation_rank_distances(query_vector, corpus.embeddings, corpus.chunks, sets, result_chunk_ids)
    return [shares, plot_rank_distances(distances, titles=corpus.titles)]


def diagnose_search(
    store: StoreBackend,
    encoder: Encoder,
    response: Any,
    *,
    langs: Sequence[str] | None = None,
    translation_sets: Iterable[Iterable[DocId]] | None = None,
    corpus: Corpus | None = None,
) -> list[Diagnostic]:
    """``diagnose_results`` for an ``app.search.SearchResponse``, reusing the vector the search used
    (the query is encoded again only for a response that lacks it)."""
    from app.search import encode_query

    vector = getattr(response, "query_vector", None)
    if vector is None:
        vector = encode_query(encoder, response.query)
    return diagnose_results(store, vector, [hit.chunk_id for hit in response.results],
                            langs=langs, translation_sets=translation_sets, corpus=corpus)


def diagnose_corpus(
    store: StoreBackend,
    encoder: QueryEncoder,
    *,
    translation_sets: Iterable[Iterable[DocId]] | None = None,
    corpus: Corpus | None = None,
) -> Diagnostic:
    """The corpus's language x language bias matrix, plotted (on demand: it encodes up to
    ``MAX_QUERIES_PER_LANGUAGE`` chunk prefixes per language)."""
    corpus = corpus or load_corpus(store)
    sets = translation_sets_of(corpus, translation_sets, store=store)

    def texts(ids: list[int]) -> list[str]:
        rows = store.fetch_chunks(ids)
        return [rows[i]["text"] for i in ids]

    return plot_bias_matrix(corpus_bias_matrix(encoder, texts, corpus.embeddings, corpus.chunks, sets))
