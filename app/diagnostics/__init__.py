"""Per-language bias diagnostics for one result list and for the whole corpus, plotted.

Three questions a practitioner can ask of a multilingual library (definitions after LAReQA, Roy et al.
2020, and Hybrid batches, arXiv 2408.10536):

1. ``language_shares`` (``shares``): does the top-k mirror the corpus's language mix, or does one
   language crowd out the others? Paired bars plus the total variation distance (0 = same mix, 1 =
   disjoint).
2. ``translation_rank_distances`` (``rank_distance``): for documents that are translations of each
   other (a *translation set*, marked by the user or found by ``detect_translation_sets`` in
   ``alignment``), how far apart do the versions of the same passage land in the full ranking?
   ``max rank - min rank`` (the paper's rank distance; its floor is the number of versions minus one).
3. ``corpus_bias_matrix`` (``bias``): for every query language X and text language Y, how far a query
   in X ranks the parallel text in Y below the parallel text in X, from the corpus's own aligned chunks.

Everything takes plain inputs, so nothing here depends on the store's internals:
``chunks`` is a sequence of ``ChunkInfo(chunk_id, doc_id, lang, page)`` (plain tuples work) and
``embeddings`` the matching ``(chunks, dim)`` float array of normalised passage embeddings (row i is
``chunks[i]``). ``load_corpus`` (``corpus``) is the one adapter that reads these from ``app.store``.

Each ``plot_*`` returns a ``Diagnostic`` (``common``): a title, a matplotlib ``Figure`` (made without
pyplot, so no GUI backend and no global figure list in a long-running server; for ``gr.Plot``), one
sentence saying what the chart means and what a good value looks like, and the numbers behind it.

Example::

    >>> shares = language_shares(["de", "de", "en"], ["de", "en", "en", "fr"])
    >>> round(shares.total_variation, 3)
    0.417
    >>> plot_language_shares(shares).title
    'Languages in the top 3 vs. the library'
"""

from __future__ import annotations

from app.diagnostics.alignment import (
    MIN_ALIGNED,
    MIN_COVERAGE,
    MIN_MARGIN,
    MIN_SIMILARITY,
    DocChunks,
    alignment_coverage,
    detect_translation_sets,
    aligned_pairs,
    mutual_best_pairs,
)
from app.diagnostics.bias import (
    MAX_QUERIES_PER_LANGUAGE,
    QUERY_CHARS,
    BiasMatrix,
    ParallelQuery,
    bias_matrix,
    corpus_bias_matrix,
    parallel_queries,
    plot_bias_matrix,
    select_queries,
)
from app.diagnostics.common import ChunkInfo, Diagnostic, DocId, QueryEncoder, figure_png
from app.diagnostics.corpus import (
    Corpus,
    diagnose_corpus,
    diagnose_results,
    diagnose_search,
    load_corpus,
    translation_sets_of,
)
from app.diagnostics.rank_distance import (
    SetRankDistance,
    Version,
    full_ranks,
    plot_rank_distances,
    translation_rank_distances,
)
from app.diagnostics.shares import LanguageShares, language_shares, plot_language_shares

__all__ = [
    # common
    "ChunkInfo", "Diagnostic", "DocId", "QueryEncoder", "figure_png",
    # shares
    "LanguageShares", "language_shares", "plot_language_shares",
    # alignment
    "MIN_ALIGNED", "MIN_COVERAGE", "MIN_MARGIN", "MIN_SIMILARITY", "DocChunks", "alignment_coverage",
    "detect_translation_sets", "aligned_pairs", "mutual_best_pairs",
    # rank_distance
    "SetRankDistance", "Version", "full_ranks", "plot_rank_distances", "translation_rank_distances",
    # bias
    "MAX_QUERIES_PER_LANGUAGE", "QUERY_CHARS", "BiasMatrix", "ParallelQuery", "bias_matrix",
    "corpus_bias_matrix", "parallel_queries", "plot_bias_matrix", "select_queries",
    # corpus
    "Corpus", "diagnose_corpus", "diagnose_results", "diagnose_search", "load_corpus", "translation_sets_of",
]
