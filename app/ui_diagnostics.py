"""Diagnostics tab handlers: the charts of ``app.diagnostics`` for the last search and the corpus.

The computations are ``app.diagnostics``'s; this module feeds them the store, the user's marked
translation sets and the last search, and shows each chart with its one-sentence explanation.
The corpus (all chunk embeddings) is read once per store generation, not per search.
"""

from __future__ import annotations

import threading

import gradio as gr

from app import ui_errors, ui_resources
from app.store_protocol import StoreBackend
from app.ui_resources import LastSearch
from app.ui_translation_sets import load_sets

_cache_lock = threading.Lock()
_corpus_cache: dict[tuple[str, int, int], object] = {}

NO_SEARCH = ("Run a search first (Search tab): this section then shows how the languages of its results "
             "compare with the library's, and how far apart translations of the same text were ranked.")


def _corpus(store: StoreBackend) -> object:
    from app.diagnostics import load_corpus

    # a language correction keeps the generation but changes the chunks' languages: it bumps labels_revision
    key = (str(store.folder), store.generation(), store.labels_revision())
    with _cache_lock:
        if key not in _corpus_cache:
            _corpus_cache.clear()  # only the current generation is worth keeping
            _corpus_cache[key] = load_corpus(store)
        return _corpus_cache[key]


def _explained(diagnostic: object) -> str:
    return f"**{diagnostic.title}.** {diagnostic.explanation}"


def diagnose_last_search(last: LastSearch | None) -> tuple[str, object, str, object, str]:
    """(summary, language-share figure, its explanation, rank-distance figure, its explanation)."""
    from app.diagnostics import diagnose_results
    from app.search import encode_query

    if not last or not last.chunk_ids:
        return NO_SEARCH, None, "", None, ""
    store = ui_resources.get_store()
    if not store.chunk_count():
        return NO_SEARCH, None, "", None, ""
    vector = last.query_vector
    if vector is None:  # a record from before the search kept its vector
        vector = encode_query(ui_resources.get_encoder(last.model), last.query)
    shares, distances = diagnose_results(store, vector, last.chunk_ids, langs=last.langs or None,
                                         translation_sets=load_sets(store), corpus=_corpus(store))
    summary = (f"For the search **“{last.query}”** (top {len(last.chunk_ids)}"
               + (", language filter on" if last.langs else "") + ").")
    return summary, shares.figure, _explained(shares), distances.figure, _explained(distances)


def diagnose_library(progress: gr.Progress = gr.Progress()) -> tuple[object, str]:
    """The language x language bias matrix of the library, from its own aligned translations."""
    from app.diagnostics import diagnose_corpus

    store = ui_resources.get_store()
    if not store.chunk_count():
        raise ui_errors.refusal("The library is empty: add documents (or the demo library) first.")
    progress(0.1, desc="loading the model")
    encoder = ui_resources.get_encoder()
    progress(0.3, desc="aligning translations and ranking their passages")
    matrix = diagnose_corpus(store, encoder, translation_sets=load_sets(store), corpus=_corpus(store))
    return gr.update(value=matrix.figure, visible=True), _explained(matrix)
