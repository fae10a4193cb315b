"""Which chunks and documents are translations of each other, from their embeddings alone: mutual
best pairs, alignment coverage and the translation sets detected from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from app.diagnostics.common import DocId

MIN_COVERAGE = 0.5
"""Mean alignment coverage two groups of documents need to be merged into one translation set.
The coverage of a document pair is the share of its chunks aligned across the two (see
``alignment_coverage``); groups merge by average linkage, so a single chance link between two
short documents cannot merge two sets. Chosen with ``MIN_MARGIN`` and ``MIN_ALIGNED`` (see there)."""

MIN_MARGIN = 0.25
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
documents), recall 0.99-1.0 from four chunks.

Raised from 0.2 to 0.25 when the distilled adapter became the default (it aligns languages more
closely, so structurally parallel but unrelated laws align more): on the demo laws with it, margin
0.2 / 0.25 / 0.3 linked 1 / 0 / 0 pairs of three-chunk versions of different laws, mixed the two laws
in 8 / 0 / 0 of the 220 small demo libraries, and found 48 / 46 / 43 of 50 three-chunk pairs of one law
in two languages; the whole demo library's two sets and the four-language parallel law were found at
each (`python scripts/translation_set_margin.py`). (The 250 simulated libraries above were not re-run.)"""

MIN_ALIGNED = 3
"""Aligned chunks a pair of documents needs before its coverage counts at all: two aligned chunks
(say, titles and one article) happen between unrelated short laws, so documents of one or two
chunks are never linked automatically; the user marks those sets by hand."""

MIN_SIMILARITY = 0.8
"""An absolute cosine floor for ``mutual_best_pairs`` when a caller wants one. With the untuned base
encoder translated legal sentences score 0.85-0.94 and unrelated ones 0.78-0.82 on average (en, de,
fr, sw); the fine-tuned default spreads cosines much wider, and Swahili translations fell below 0.8,
so the bias matrix uses the relative rule of ``aligned_pairs`` instead, which holds for both."""


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
    return _mutual_best(_similarity(a, b), min_similarity)


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T  # (n_a, n_b)


def _mutual_best(similarity: np.ndarray, min_similarity: float) -> list[tuple[int, int, float]]:
    best_b, best_a = similarity.argmax(axis=1), similarity.argmax(axis=0)
    return [
        (i, int(j), float(similarity[i, j]))
        for i, j in enumerate(best_b)
        if best_a[j] == i and similarity[i, j] >= min_similarity
    ]


def _margins(similarity: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(s - m) / (1 - m)`` for the pairs ``(rows[k], cols[k])`` of a ``(n_a, n_b)`` similarity matrix,
    ``m`` being the mean similarity of row chunk to the other columns and of column chunk to the
    other rows: how far a pair stands out from the two documents' other pairings (``MIN_MARGIN``)."""
    n_a, n_b = similarity.shape
    matched = similarity[rows, cols]
    others = (similarity.sum(axis=1)[rows] + similarity.sum(axis=0)[cols] - 2 * matched) / max(n_a + n_b - 2, 1)
    return (matched - others) / np.maximum(1.0 - others, 1e-6)


def aligned_pairs(a: np.ndarray, b: np.ndarray, *, min_margin: float = MIN_MARGIN) -> list[tuple[int, int, float]]:
    """Mutual best matches of two documents' chunks that stand out from their other pairings.

    A pair ``(i, j, s)`` of ``mutual_best_pairs`` counts when ``(s - m) / (1 - m) >= min_margin``,
    where ``m`` is the mean similarity of ``a[i]`` to ``b``'s other chunks and of ``b[j]`` to ``a``'s
    other chunks: the rule ``alignment_coverage`` uses (``MIN_MARGIN``), relative to the encoder's
    own background, so one threshold serves the untuned and the fine-tuned encoder alike.
    """
    if len(a) == 0 or len(b) == 0:
        return []
    similarity = _similarity(a, b)
    pairs = _mutual_best(similarity, -1.0)
    if not pairs:
        return []
    margins = _margins(similarity, np.array([i for i, _, _ in pairs]), np.array([j for _, j, _ in pairs]))
    return [pair for pair, margin in zip(pairs, margins) if margin >= min_margin]


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
            aligned = int((_margins(vectors[a] @ vectors[b].T, rows, j[rows]) >= min_margin).sum())
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
