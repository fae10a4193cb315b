"""Per-language bias diagnostics for one result list and for the whole corpus, plotted.

Three questions a practitioner can ask of a multilingual library (definitions after LAReQA, Roy et al.
2020, and Hybrid batches, arXiv 2408.10536):

1. ``language_shares``: does the top-k mirror the corpus's language mix, or does one language crowd
   out the others? Paired bars plus the total variation distance (0 = same mix, 1 = disjoint).
2. ``translation_rank_distances``: for documents that are translations of each other (a
   *translation set*, marked by the user or found by ``detect_translation_sets``), how far apart do
   the versions of the same passage land in the full ranking? ``max rank - min rank`` (the paper's
   rank distance; its floor is the number of versions minus one).
3. ``corpus_bias_matrix``: for every query language X and text language Y, how far a query in X
   ranks the parallel text in Y below the parallel text in X, from the corpus's own aligned chunks.

Everything takes plain inputs, so nothing here depends on the store's internals:
``chunks`` is a sequence of ``ChunkInfo(chunk_id, doc_id, lang, page)`` (plain tuples work) and
``embeddings`` the matching ``(chunks, dim)`` float array of normalised passage embeddings (row i is
``chunks[i]``). ``load_corpus`` is the one adapter that reads these from ``app.store``.

Each ``plot_*`` returns a ``Diagnostic``: a title, a matplotlib ``Figure`` (made without pyplot, so
no GUI backend and no global figure list in a long-running server; for ``gr.Plot``), one sentence saying what the chart means and what a good value looks like, and the
numbers behind it.

Example::

    >>> shares = language_shares(["de", "de", "en"], ["de", "en", "en", "fr"])
    >>> round(shares.total_variation, 3)
    0.417
    >>> plot_language_shares(shares).title
    'Languages in the top 3 vs. the library'
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from corpora.languages import language_name
from trainer.encoder import Encoder

DocId = Hashable

MIN_COVERAGE = 0.5
"""Mean alignment coverage two groups of documents need to be merged into one translation set.
The coverage of a document pair is the share of its chunks aligned across the two (see
``alignment_coverage``); groups merge by average linkage, so a single chance link between two
short documents cannot merge two sets. Chosen with ``MIN_MARGIN`` and ``MIN_ALIGNED`` (see there)."""

MIN_MARGIN = 0.2
"""How far a mutual best match must stand out to count as aligned: ``(s - m) / (1 - m)``, where ``s``
is the pair's cosine similarity and ``m`` the mean similarity of the two chunks to the other
chunks of the other document, i.e. the share of the room above that background the pair takes.

Mutual best matching alone is weak evidence: between two unrelated documents each alone in its
language, about half the chunks match mutually by chance (n_a·n_b / (n_a + n_b - 1) pairs expected
for random similarities), and more between short documents of one kind, where title matches title
and "Article 2" matches "Article 2" (the two three-chunk laws of the browser test, a Swahili tenancy
act and a German data-protection act, were linked at coverage 0.67). Relative rather than absolute,
because encoders differ in scale: a fine-tuned model spreads cosines four times wider than the
default encoder, and an absolute margin of 0.05 chosen for one filtered nothing with the other.

Measured (``MIN_COVERAGE`` 0.5, ``MIN_ALIGNED`` 3) on 250 simulated libraries of 2-8 documents
sets each in 1-4 languages: slices of 2-6 articles of the Swiss (de/en/fr/it) and Norwegian
(en/nb/nn) constitutions, renumbered from 1 as unrelated laws are, and NTREX news documents in 10
languages; plus every pair and triple of the demo library and 33 three-chunk versions of its laws.
Default encoder: no false link anywhere (the previous rule, coverage 0.6 without margin: 10 in the
libraries, 122 among demo subsets, 241 among three-chunk pairs), recall 0.96 for documents of four
chunks or more and 0.85 for three. The hybrid-batch X-X model of ``runs/compare``: 2 false links (three-chunk
documents), recall 0.99-1.0 from four chunks."""

MIN_ALIGNED = 3
"""Aligned chunks a pair of documents needs before its coverage counts at all: two aligned chunks
(say, titles and one article) happen between unrelated short laws, so documents of one or two
chunks are never linked automatically; the user marks those sets by hand."""

MIN_SIMILARITY = 0.8
"""Cosine similarity a mutual best match needs to count as parallel chunks in the bias matrix. With
the default encoder (multilingual-e5-small) translated legal sentences score 0.85-0.94 and unrelated
ones 0.78-0.82 on average (en, de, fr, sw; measured for this module)."""

QUERY_CHARS = 300
"""Characters of a chunk used as a query for the bias matrix: a query is short, and encoding a
300-character prefix instead of a 256-token chunk keeps the matrix to seconds on CPU."""

MAX_QUERIES_PER_LANGUAGE = 16
"""Query chunks per language for the bias matrix (evenly spaced over the aligned chunks). Encoding
is the cost, about 0.05 CPU-seconds per query: the demo library's 55 aligned chunks take 2.5
CPU-seconds, 153 queries of a 481-chunk corpus in 13 languages 7 s wall on a busy 2-core machine."""


class ChunkInfo(NamedTuple):
    """One chunk as the diagnostics see it; row ``i`` of the embeddings belongs to ``chunks[i]``."""

    chunk_id: int
    doc_id: DocId
    lang: str
    page: int | None = None


class QueryEncoder(Protocol):
    """What the bias matrix needs from a model; ``SentenceTransformer`` satisfies it."""

    def encode_query(self, inputs: list[str], **kwargs: Any) -> np.ndarray: ...


@dataclass
class Diagnostic:
    """A chart for the UI: ``figure`` goes to ``gr.Plot``, ``explanation`` beside it."""

    title: str
    figure: Figure
    explanation: str
    data: Any


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (for tests, reports and downloads)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _new_figure(width: float, height: float) -> tuple[Figure, Any]:
    # Figure() rather than pyplot: no global figure registry to leak from a long-running server.
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _language_colors(languages: Iterable[str]) -> dict[str, Any]:
    distinct = sorted(set(languages))
    cmap = matplotlib.colormaps["tab20" if len(distinct) > 10 else "tab10"]
    return {lang: cmap(i % cmap.N) for i, lang in enumerate(distinct)}


# --- 1. language shares of one result list ---------------------------------------------------


@dataclass
class LanguageShares:
    """Share of each language among the results and in the corpus (both sum to 1 over ``languages``).

    ``total_variation`` is ``0.5 * sum |result - corpus|``: 0 when the results mirror the corpus, 1
    when they hold only languages the corpus lacks (``nan`` without results). ``max_over_representation`` is the largest
    ``result share / corpus share`` (1 = no language over-represented; ``inf`` for a language the
    corpus list lacks).
    """

    languages: list[str]
    result_share: np.ndarray
    corpus_share: np.ndarray
    k: int
    total_variation: float
    max_over_representation: float
    most_over_represented: str | None


def language_shares(result_langs: Sequence[str], corpus_langs: Sequence[str] | Mapping[str, int]) -> LanguageShares:
    """Compare the language mix of a result list with the corpus's.

    Args:
        result_langs: language of each result (a chunk), any order.
        corpus_langs: language of each chunk of the corpus the search ran over, or chunk counts per
            language (``Store.languages()``). Restrict it to the languages of a language filter, or
            every filtered search looks biased.

    Returns:
        ``LanguageShares`` over the union of languages, sorted by corpus share then code.
    """
    corpus = Counter(corpus_langs) if not isinstance(corpus_langs, Mapping) else Counter(dict(corpus_langs))
    size = sum(corpus.values())
    if size <= 0:
        raise ValueError("corpus_langs is empty: there is no corpus to compare the results with")
    results = Counter(result_langs)
    languages = sorted(set(results) | set(corpus), key=lambda lang: (-corpus[lang], lang))
    result_share = np.array([results[lang] for lang in languages], dtype=np.float64)
    result_share /= max(len(result_langs), 1)
    corpus_share = np.array([corpus[lang] for lang in languages], dtype=np.float64) / size
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(result_share > 0, result_share / corpus_share, 0.0)
    worst = int(np.argmax(ratio)) if len(result_langs) else None
    return LanguageShares(
        languages=languages,
        result_share=result_share,
        corpus_share=corpus_share,
        k=len(result_langs),
        total_variation=float(0.5 * np.abs(result_share - corpus_share).sum()) if len(result_langs) else float("nan"),
        max_over_representation=float(ratio[worst]) if worst is not None else float("nan"),
        most_over_represented=languages[worst] if worst is not None else None,
    )


def plot_language_shares(shares: LanguageShares) -> Diagnostic:
    """Paired bars per language: share among the results vs. share of the corpus."""
    figure, axes = _new_figure(min(10.0, max(5.0, 0.7 * len(shares.languages) + 3.2)), 3.2)  # + the legend
    x = np.arange(len(shares.languages))
    axes.bar(x - 0.2, shares.result_share, width=0.4, label=f"top {shares.k}", color="tab:blue")
    axes.bar(x + 0.2, shares.corpus_share, width=0.4, label="library", color="tab:gray")
    axes.set_xticks(x, [language_name(lang) for lang in shares.languages], rotation=30, ha="right")
    axes.set_ylabel("share")
    axes.set_ylim(0, 1)
    # Beside the axes, not inside: a share near 1 fills the plot from bottom to top.
    axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if shares.k:
        axes.set_title(f"total variation distance {shares.total_variation:.2f}", fontsize=10)
    measured = f" ({shares.total_variation:.2f})" if shares.k else " (no results here)"
    explanation = (
        f"Blue bars show each language's share of the top {shares.k} results, grey bars its share of the "
        f"library; the total variation distance{measured} is 0 when the results mirror "
        "the library's language mix and 1 when they share nothing with it: a value near 0 is good when the "
        "answer exists in several languages, while a high value is expected if only one language holds it."
    )
    return Diagnostic(f"Languages in the top {shares.k} vs. the library", figure, explanation, shares)


# --- rankings and chunk alignment ------------------------------------------------------------


def full_ranks(query_vector: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """1-based rank of every chunk for one query by inner product, shape ``(chunks,)``.

    Ties go to the earlier row, as a stable sort would.
    """
    scores = np.asarray(embeddings, dtype=np.float32) @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def mutual_best_pairs(a: np.ndarray, b: np.ndarray, *, min_similarity: float = MIN_SIMILARITY) -> list[tuple[int, int, float]]:
    """Chunk pairs ``(i, j, similarity)`` where ``a[i]`` and ``b[j]`` are each other's best match.

    Args:
        a: ``(n_a, dim)`` normalised embeddings of one document's chunks.
        b: ``(n_b, dim)`` the same for the other document.
        min_similarity: pairs below this cosine similarity are dropped (see ``MIN_SIMILARITY``).

    The best match is searched within one document, so the encoder's preference for a language does
    not enter: every candidate is in the same language.
    """
    if len(a) == 0 or len(b) == 0:
        return []
    similarity = np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T  # (n_a, n_b)
    best_b, best_a = similarity.argmax(axis=1), similarity.argmax(axis=0)
    return [
        (i, int(j), float(similarity[i, j]))
        for i, j in enumerate(best_b)
        if best_a[j] == i and similarity[i, j] >= min_similarity
    ]


def _rows_by_doc(chunks: Sequence[ChunkInfo]) -> dict[DocId, np.ndarray]:
    rows: dict[DocId, list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows.setdefault(ChunkInfo(*chunk).doc_id, []).append(row)
    return {doc: np.array(r, dtype=np.int64) for doc, r in rows.items()}


# --- translation sets ------------------------------------------------------------------------


@dataclass
class DocChunks:
    """One document for ``detect_translation_sets``: its language and ``(chunks, dim)`` embeddings."""

    lang: str
    embeddings: np.ndarray


def alignment_coverage(doc_chunks: Mapping[DocId, DocChunks], *, min_margin: float = MIN_MARGIN,
                       min_aligned: int = MIN_ALIGNED) -> tuple[list[DocId], np.ndarray]:
    """Pairwise alignment coverage of documents, the evidence ``detect_translation_sets`` clusters.

    Chunk i of A and chunk j of B (different languages) are aligned when j is i's best match among
    *all* chunks in B's language, i is j's best match among all chunks in A's language, and the
    pair stands out from the two documents' other pairings: ``(s - m) / (1 - m) >= min_margin``,
    where ``s`` is its similarity and ``m`` the mean similarity of i to B's other chunks and of j
    to A's other chunks (``MIN_MARGIN``). Searching the whole language, not only B, keeps two
    documents from aligning merely because each is the other's least bad partner; the margin
    keeps two unrelated documents of one kind (laws with the same numbered articles) from
    aligning where each chunk is only slightly nearer one partner than the others. The coverage of
    (A, B) is the number of aligned chunks over the chunk count of the longer document, and 0 with
    fewer than ``min_aligned`` aligned chunks (``MIN_ALIGNED``) or for documents in the same
    language (no evidence either way).

    Args:
        doc_chunks: document id -> ``DocChunks(lang, embeddings)``; embeddings normalised.
        min_margin: see ``MIN_MARGIN`` (0.2); 0 counts every mutual best match.
        min_aligned: see ``MIN_ALIGNED`` (3).

    Returns:
        The document ids (those with chunks) and their symmetric ``(docs, docs)`` coverage matrix.
    """
    docs = [doc for doc, d in doc_chunks.items() if len(d.embeddings)]
    vectors = {doc: np.asarray(doc_chunks[doc].embeddings, dtype=np.float32) for doc in docs}
    by_lang: dict[str, list[DocId]] = {}
    for doc in docs:
        by_lang.setdefault(doc_chunks[doc].lang, []).append(doc)
    # Per language, all its chunks stacked; start[doc] is the row of doc's first chunk in its stack.
    stacked, start = {}, {}
    for lang, members in by_lang.items():
        stacked[lang] = np.concatenate([vectors[d] for d in members])
        offsets = np.cumsum([0] + [len(vectors[d]) for d in members])
        start.update({d: int(o) for d, o in zip(members, offsets)})
    # best[doc, lang]: for each chunk of doc, the row of its best match in lang's stack
    best = {(doc, lang): (vectors[doc] @ stacked[lang].T).argmax(axis=1)
            for doc in docs for lang in by_lang if lang != doc_chunks[doc].lang}

    coverage = np.zeros((len(docs), len(docs)))
    for x, a in enumerate(docs):
        for y in range(x + 1, len(docs)):
            b = docs[y]
            lang_a, lang_b = doc_chunks[a].lang, doc_chunks[b].lang
            if lang_a == lang_b:
                continue
            j = best[a, lang_b] - start[b]  # chunk of b that each chunk of a matches best (if in b)
            n_a, n_b = len(j), len(vectors[b])
            in_b = (j >= 0) & (j < n_b)
            back = best[b, lang_a][np.clip(j, 0, n_b - 1)] - start[a]
            rows = np.flatnonzero(in_b & (back == np.arange(n_a)))
            if len(rows) < min_aligned:
                continue
            similarity = vectors[a] @ vectors[b].T  # (n_a, n_b)
            cols = j[rows]
            matched = similarity[rows, cols]
            # mean similarity of chunk i to b's other chunks and of chunk j to a's other chunks
            others = (similarity.sum(axis=1)[rows] + similarity.sum(axis=0)[cols] - 2 * matched) / max(n_a + n_b - 2, 1)
            aligned = int(((matched - others) / np.maximum(1.0 - others, 1e-6) >= min_margin).sum())
            if aligned >= min_aligned:
                coverage[x, y] = coverage[y, x] = aligned / max(n_a, n_b)
    return docs, coverage


def detect_translation_sets(doc_chunks: Mapping[DocId, DocChunks], *, min_coverage: float = MIN_COVERAGE,
                            min_margin: float = MIN_MARGIN, min_aligned: int = MIN_ALIGNED) -> list[frozenset]:
    """Group documents that are translations of each other, from their chunk embeddings alone.

    Pairs of documents are scored by ``alignment_coverage``; groups are then merged by average
    linkage (scipy's hierarchical clustering) while the mean coverage between two groups is at least
    ``min_coverage``. A single chance alignment between two short documents cannot merge two sets:
    every member of one must align with most members of the other. Documents need at least
    ``min_aligned`` chunks (and find their sets more surely from four on); for anything it misses or
    mixes up, the user marks the set by hand.

    Args:
        doc_chunks: document id -> ``DocChunks(lang, embeddings)``; embeddings normalised.
        min_coverage: see ``MIN_COVERAGE`` (0.5).
        min_margin: see ``MIN_MARGIN`` (0.2).
        min_aligned: see ``MIN_ALIGNED`` (3).

    Returns:
        Sets of two or more document ids, largest first, then by their smallest member's string.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if not 0 < min_coverage <= 1:
        raise ValueError(f"min_coverage must be in (0, 1], got {min_coverage}")
    docs, coverage = alignment_coverage(doc_chunks, min_margin=min_margin, min_aligned=min_aligned)
    if len(docs) < 2:
        return []
    distance = squareform(1.0 - coverage, checks=False)  # condensed; the diagonal is dropped
    labels = fcluster(linkage(distance, method="average"), t=1.0 - min_coverage + 1e-9, criterion="distance")
    groups: dict[int, set] = {}
    for doc, label in zip(docs, labels):
        groups.setdefault(int(label), set()).add(doc)
    sets = [frozenset(g) for g in groups.values() if len(g) >= 2]
    return sorted(sets, key=lambda s: (-len(s), min(str(d) for d in s)))


# --- 2. rank distance of translations in one ranking -----------------------------------------


class Version(NamedTuple):
    """One document's version of a passage in the full ranking."""

    doc_id: DocId
    lang: str
    chunk_id: int
    rank: int


@dataclass
class SetRankDistance:
    """Where the versions of one passage of a translation set rank, and how far apart.

    ``anchor_chunk_id`` is the set's best-ranked chunk among the results; each other document of the
    set contributes its chunk best aligned to the anchor. ``distance`` is ``max - min`` rank over
    ``versions``; ``floor`` (versions - 1) is the best possible, all versions side by side.
    """

    docs: tuple
    anchor_chunk_id: int
    versions: list[Version]
    distance: int
    floor: int


def translation_rank_distances(
    query_vector: np.ndarray,
    embeddings: np.ndarray,
    chunks: Sequence[ChunkInfo],
    translation_sets: Iterable[Iterable[DocId]],
    result_chunk_ids: Sequence[int],
) -> list[SetRankDistance]:
    """Rank distance of every translation set that has a chunk among the results.

    The ranking is the full dense ranking of all ``chunks`` for the query (inner product), not the
    filtered or fused result list: rank distance asks where the other versions landed, and BM25
    cannot match across languages by construction.

    Args:
        query_vector: ``(dim,)`` the query's embedding (encoded with the query prompt).
        embeddings: ``(chunks, dim)`` normalised passage embeddings; row i is ``chunks[i]``.
        chunks: ``ChunkInfo(chunk_id, doc_id, lang, page)`` per row.
        translation_sets: groups of document ids known to be translations of each other.
        result_chunk_ids: chunk ids of the result list, best first.

    Returns:
        One ``SetRankDistance`` per set with a result chunk and at least one other version, in the
        order of the sets' best result.
    """
    chunks = [ChunkInfo(*c) for c in chunks]
    if len(chunks) != len(embeddings):
        raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embedding rows")
    embeddings = np.asarray(embeddings, dtype=np.float32)
    ranks = full_ranks(query_vector, embeddings)
    row_of = {c.chunk_id: row for row, c in enumerate(chunks)}
    rows_by_doc = _rows_by_doc(chunks)
    set_of = {doc: frozenset(s) for s in map(frozenset, translation_sets) for doc in s}

    found: list[SetRankDistance] = []
    done: set[frozenset] = set()
    for chunk_id in result_chunk_ids:
        anchor = row_of.get(chunk_id)
        members = set_of.get(chunks[anchor].doc_id) if anchor is not None else None
        if not members or members in done:
            continue
        done.add(members)
        # The anchor is the set's first result; results come best first.
        versions = [Version(chunks[anchor].doc_id, chunks[anchor].lang, chunks[anchor].chunk_id, int(ranks[anchor]))]
        for doc in sorted(members - {chunks[anchor].doc_id}, key=str):
            rows = rows_by_doc.get(doc)
            if rows is None:
                continue  # a marked document that is no longer in the corpus
            # Best aligned chunk: the anchor's nearest within this one document (one language,
            # so the encoder's language preference cannot pick it).
            partner = rows[int(np.argmax(embeddings[rows] @ embeddings[anchor]))]
            versions.append(Version(doc, chunks[partner].lang, chunks[partner].chunk_id, int(ranks[partner])))
        if len(versions) < 2:
            continue
        spread = [v.rank for v in versions]
        found.append(SetRankDistance(docs=tuple(sorted(members, key=str)), anchor_chunk_id=chunks[anchor].chunk_id,
                                     versions=sorted(versions, key=lambda v: v.rank),
                                     distance=max(spread) - min(spread), floor=len(versions) - 1))
    return found


def plot_rank_distances(items: Sequence[SetRankDistance], *, titles: Mapping[DocId, str] | None = None) -> Diagnostic:
    """One row per translation set: the rank of each version (log scale), joined from best to worst."""
    titles = titles or {}
    figure, axes = _new_figure(7.0, max(1.8, 0.55 * len(items) + 1.2))
    colors = _language_colors(v.lang for item in items for v in item.versions)
    for y, item in enumerate(items):
        ranks = [v.rank for v in item.versions]
        axes.plot([min(ranks), max(ranks)], [y, y], color="lightgray", zorder=1)
        for version in item.versions:
            axes.scatter(version.rank, y, color=colors[version.lang], s=40, zorder=2)
        axes.annotate(f"{item.distance}", (max(ranks), y), xytext=(6, -3), textcoords="offset points", fontsize=8)
    anchors = [next(v.doc_id for v in item.versions if v.chunk_id == item.anchor_chunk_id) for item in items]
    axes.set_yticks(range(len(items)), [_short(titles.get(doc, f"set {i + 1}")) for i, doc in enumerate(anchors)])
    axes.invert_yaxis()
    axes.set_xscale("log")
    # Ranks are whole numbers: label 1, 2, 5, 10, 20 ... as such, not as 2×10⁰ (matplotlib's
    # log-axis labels), and leave the minor ticks unlabelled.
    axes.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlabel("rank in the full ranking (log scale)")
    for lang, color in colors.items():
        axes.scatter([], [], color=color, label=language_name(lang))
    if colors:
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        axes.text(0.5, 0.5, "no translation set among the results", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()  # no ranks: an empty log axis would only show ticks
    mean = float(np.mean([item.distance for item in items])) if items else float("nan")
    explanation = (
        "Each row is one passage that exists in several translations; dots mark where each language's version "
        "ranks and the number is the rank distance (worst rank minus best rank): the best possible is the number "
        "of versions minus one (all side by side), and a large value means the search prefers some languages' "
        "versions of the same text over others."
    )
    title = f"Rank distance of translations (mean {mean:.1f})" if items else "Rank distance of translations (none among the results)"
    return Diagnostic(title, figure, explanation, list(items))


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- 3. the corpus's language x language bias matrix -----------------------------------------


@dataclass
class ParallelQuery:
    """A chunk used as a query and its parallel chunks (rows), itself included."""

    row: int
    relevant: list[int]


def parallel_queries(
    embeddings: np.ndarray,
    chunks: Sequence[ChunkInfo],
    translation_sets: Iterable[Iterable[DocId]],
    *,
    min_similarity: float = MIN_SIMILARITY,
) -> list[ParallelQuery]:
    """Aligned chunks of the translation sets, one query per chunk with a partner in another language.

    Chunk i of document A is parallel to chunk j of document B (same set) when they are each other's
    best match (``mutual_best_pairs``); unlike the rank-distance chart, a chunk without a mutual
    partner in B gets none there, so every relevant pair is a real translation.
    """
    chunks = [ChunkInfo(*c) for c in chunks]
    embeddings = np.asarray(embeddings, dtype=np.float32)
    rows_by_doc = _rows_by_doc(chunks)
    partners: dict[int, set[int]] = {}
    for members in translation_sets:
        docs = sorted((d for d in set(members) if d in rows_by_doc), key=str)
        for position, a in enumerate(docs):
            for b in docs[position + 1:]:
                rows_a, rows_b = rows_by_doc[a], rows_by_doc[b]
                for i, j, _ in mutual_best_pairs(embeddings[rows_a], embeddings[rows_b], min_similarity=min_similarity):
                    partners.setdefault(int(rows_a[i]), set()).add(int(rows_b[j]))
                    partners.setdefault(int(rows_b[j]), set()).add(int(rows_a[i]))
    return [ParallelQuery(row, sorted({row} | others)) for row, others in sorted(partners.items())
            if any(chunks[o].lang != chunks[row].lang for o in others)]


@dataclass
class BiasMatrix:
    """Mean rank gap per (query language X, text language Y); rows X, columns Y, both ``languages``.

    ``gap[x, y]``: over queries in X, the mean of (rank of the best parallel text in Y) minus (rank of
    the best parallel text in X), where a rank counts only unrelated chunks above it, so translations
    never push each other down: 0 on the diagonal by definition, 0 everywhere for an encoder without
    language bias, positive where Y falls below X. ``nan`` where no query in X has a parallel text in Y.
    ``counts[x, y]`` is the number of queries behind each cell.
    """

    languages: list[str]
    gap: np.ndarray
    counts: np.ndarray

    def off_diagonal_mean(self) -> float:
        """Mean over the defined cells off the diagonal (each language pair weighs the same)."""
        mask = ~np.eye(len(self.languages), dtype=bool) & (self.counts > 0)
        return float(self.gap[mask].mean()) if mask.any() else float("nan")


def bias_matrix(
    query_vectors: np.ndarray,
    query_langs: Sequence[str],
    candidate_vectors: np.ndarray,
    candidate_langs: Sequence[str],
    relevant: Sequence[Sequence[int]],
) -> BiasMatrix:
    """The language x language rank-gap matrix from queries with known parallel candidates.

    Args:
        query_vectors: ``(queries, dim)`` query embeddings.
        query_langs: language of each query.
        candidate_vectors: ``(candidates, dim)`` candidate embeddings (scored by inner product).
        candidate_langs: language of each candidate.
        relevant: per query, the candidate rows that are parallel to it (in any language).

    Returns:
        ``BiasMatrix`` over the sorted languages of queries and relevant candidates. Ties count in the
        relevant candidate's favour.
    """
    from trainer.metrics import rank_gap

    query_vectors = np.asarray(query_vectors, dtype=np.float32)
    candidate_vectors = np.asarray(candidate_vectors, dtype=np.float32)
    if not len(query_vectors) == len(query_langs) == len(relevant):
        raise ValueError(f"{len(query_vectors)} query vectors, {len(query_langs)} query languages and "
                         f"{len(relevant)} relevant lists must be equally many")
    if len(candidate_vectors) != len(candidate_langs):
        raise ValueError(f"{len(candidate_vectors)} candidate vectors but {len(candidate_langs)} candidate languages")
    languages = sorted(set(query_langs) | {candidate_langs[r] for rows in relevant for r in rows})
    index = {lang: i for i, lang in enumerate(languages)}
    candidate_lang = np.array([index.get(lang, -1) for lang in candidate_langs], dtype=np.int64)
    n_lang = len(languages)
    total, counts = np.zeros((n_lang, n_lang)), np.zeros((n_lang, n_lang), dtype=np.int64)
    scores = query_vectors @ candidate_vectors.T  # (queries, candidates): hundreds x hundreds here
    for q, rows in enumerate(relevant):
        rows = np.asarray(rows, dtype=np.int64)
        unrelated = np.ones(len(candidate_vectors), dtype=bool)
        unrelated[rows] = False
        others = np.sort(scores[q, unrelated])
        above = len(others) - np.searchsorted(others, scores[q, rows], side="right")  # unrelated chunks above
        best = np.full(n_lang, np.inf)
        np.minimum.at(best, candidate_lang[rows], above + 1.0)
        x = index[query_langs[q]]
        gap = rank_gap(best[None, :], np.array([x]))[0]
        defined = ~np.isnan(gap)
        total[x, defined] += gap[defined]
        counts[x, defined] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return BiasMatrix(languages=languages, gap=gap, counts=counts)


def select_queries(queries: Sequence[ParallelQuery], langs: Sequence[str], per_language: int) -> list[ParallelQuery]:
    """At most ``per_language`` queries per language, evenly spaced (deterministic)."""
    by_lang: dict[str, list[ParallelQuery]] = {}
    for query in queries:
        by_lang.setdefault(langs[query.row], []).append(query)
    chosen = []
    for lang in sorted(by_lang):
        group = by_lang[lang]
        picks = np.unique(np.linspace(0, len(group) - 1, num=min(per_language, len(group))).round().astype(int))
        chosen += [group[i] for i in picks]
    return sorted(chosen, key=lambda q: q.row)


def corpus_bias_matrix(
    encoder: QueryEncoder,
    texts: Sequence[str] | Callable[[list[int]], Sequence[str]],
    embeddings: np.ndarray,
    chunks: Sequence[ChunkInfo],
    translation_sets: Iterable[Iterable[DocId]],
    *,
    per_language: int = MAX_QUERIES_PER_LANGUAGE,
    query_chars: int = QUERY_CHARS,
    batch_size: int = 32,
) -> BiasMatrix:
    """The corpus's own bias matrix: its aligned chunks as queries against all its chunks.

    Each aligned chunk (``parallel_queries``) is cut to ``query_chars`` characters and encoded once
    with the query prompt (one batched call); the candidates are the stored passage ``embeddings``,
    so nothing else is encoded. About 5 s for 40 queries per language in 4 languages on 2 CPU cores.

    Args:
        encoder: anything with ``encode_query`` (the model that made ``embeddings``).
        texts: chunk text per row of ``chunks``, or a function from chunk ids to their texts (so a
            large store reads only the query chunks).
        embeddings: ``(chunks, dim)`` stored passage embeddings.
        chunks: ``ChunkInfo`` per row.
        translation_sets: document id groups (user-marked, or from ``detect_translation_sets``).
        per_language: cap on query chunks per language (see ``MAX_QUERIES_PER_LANGUAGE``).
        query_chars: characters of each chunk used as the query (see ``QUERY_CHARS``).
        batch_size: encoder batch size.
    """
    chunks = [ChunkInfo(*c) for c in chunks]
    if len(chunks) != len(embeddings) or (not callable(texts) and len(texts) != len(chunks)):
        raise ValueError(f"{len(chunks)} chunks, {len(embeddings)} embedding rows and the texts must be equally many")
    langs = [c.lang for c in chunks]
    queries = select_queries(parallel_queries(embeddings, chunks, translation_sets), langs, per_language)
    if not queries:
        return BiasMatrix(languages=[], gap=np.zeros((0, 0)), counts=np.zeros((0, 0), dtype=np.int64))
    if callable(texts):
        query_texts = list(texts([chunks[q.row].chunk_id for q in queries]))
    else:
        query_texts = [texts[q.row] for q in queries]
    vectors = encoder.encode_query([text[:query_chars] for text in query_texts], batch_size=batch_size)
    return bias_matrix(np.asarray(vectors), [langs[q.row] for q in queries], embeddings, langs,
                       [q.relevant for q in queries])


def plot_bias_matrix(matrix: BiasMatrix) -> Diagnostic:
    """Heatmap of the mean rank gap, query language in rows, language of the relevant text in columns."""
    n = len(matrix.languages)
    figure, axes = _new_figure(max(3.5, 0.75 * n + 2.2), max(3.0, 0.65 * n + 1.6))
    names = [language_name(lang) for lang in matrix.languages]
    if n:
        finite = matrix.gap[np.isfinite(matrix.gap)]
        limit = max(1.0, float(np.abs(finite).max()) if finite.size else 1.0)
        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#dddddd")
        image = axes.imshow(np.ma.masked_invalid(matrix.gap), cmap=cmap, vmin=-limit, vmax=limit)
        for x in range(n):
            for y in range(n):
                value = matrix.gap[x, y]
                axes.text(y, x, "–" if np.isnan(value) else f"{value:.1f}", ha="center", va="center", fontsize=8,
                          color="white" if np.isfinite(value) and abs(value) > 0.6 * limit else "black")
        figure.colorbar(image, ax=axes, label="mean rank gap", shrink=0.8)
        axes.set_xticks(range(n), names, rotation=40, ha="right")
        axes.set_yticks(range(n), names)
    else:
        axes.text(0.5, 0.5, "no aligned translations in the library", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
    axes.set_xlabel("language of the relevant text (Y)")
    axes.set_ylabel("query language (X)")
    mean = matrix.off_diagonal_mean()
    explanation = (
        "Each cell shows, for a query in the row's language, how many more unrelated passages on average rank "
        "above the column language's translation of the relevant text than above the query language's own "
        "version: 0 everywhere is ideal (no language bias), and large values in a row mean queries in that "
        "language mostly surface text in their own language."
    )
    title = "Language bias of the library (mean rank gap"
    title += f" off the diagonal {mean:.1f})" if np.isfinite(mean) else ")"
    return Diagnostic(title, figure, explanation, matrix)


# --- the store adapter -----------------------------------------------------------------------


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


def load_corpus(store: Any) -> Corpus:
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
                        store: Any = None) -> list[frozenset]:
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
    store: Any,
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
    store: Any,
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
    store: Any,
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
