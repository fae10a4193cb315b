"""Search quality measured through the product: a benchmark's candidates stored the way documents are,
every query asked through :func:`app.search.search`, scored with the trainer's metrics.

The product path: each candidate becomes one passage of a document per language (its language label
from the product's language identification, as an upload would get it), encoded by
``app.ingest.encode_passages``, stored in a real SQLite file with the FAISS index the store chooses
at that size (or IVF forced, to measure what the approximate index costs), and searched by
``app.search.search`` with ``k`` = every passage, so each relevant candidate has a rank. The ranks
are scored by :func:`trainer.evaluate.score` (one implementation of the metrics), by the
benchmark's true languages; the product's labels are scored too (``langid_accuracy``).

``mode="keywords"`` ranks by the store's keyword index alone (BM25 over every word of the question;
passages it does not match are unranked), to measure keyword search per language and script; read
its ``keyword_hits_by_language`` (the share of questions it matches anything for) and
``keyword_by_language`` (Recall@10 and mAP in the question's own language, a question matched nothing
for counting as a miss): the trainer's metrics average only over the questions whose relevant
passages got a rank.

Beside the trainer's metrics: ``languages_in_top_10`` (distinct passage languages among the first
ten results, averaged over queries) and ``own_language_share_top_10`` (the share of those ten in
the query's own language) — the bias a user sees on the first page.

Example::

    >>> result = evaluate_product(load_benchmark("xquad-r", limit=20), load_encoder("default"), folder=tmp)
    >>> result["summary"]["map_multi"]
    0.57
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from app.ingest import encode_passages, model_id
from app.keyword_text import quoted_phrases
from app.langid import detect
from app.search import Keywords, Mode, keyword_weight, search
from app.store import Store
from app.store_protocol import NewChunk
from app.vector_index import IndexPolicy
from corpora.records import Benchmark, Query
from trainer.encoder import Encoder
from trainer.evaluate import RelevantRanks, index_benchmark, score
from trainer.report import write_report

__all__ = ["evaluate_modes", "evaluate_product", "write_product_report"]

Progress = Callable[..., None]


def build_store(benchmark: Benchmark, encoder: Encoder, folder: Path, *, policy: IndexPolicy | None = None,
                progress: Progress | None = None) -> tuple[Store, dict[int, int], float]:
    """A store of the benchmark's candidates, one passage each, one document per language.

    Returns the open store, ``chunk id -> candidate index`` and the share of candidates whose
    product language label equals the benchmark's.
    """
    store = Store.open(folder)
    by_lang: dict[str, list[int]] = {}
    for i, candidate in enumerate(benchmark.candidates):
        by_lang.setdefault(candidate.lang, []).append(i)
    texts = [c.text for c in benchmark.candidates]
    if progress is not None:
        progress(0.0, desc=f"encoding {len(texts)} passages")
    vectors = encode_passages(encoder, texts)
    labels = [detect(t).lang for t in texts]
    for n, (lang, members) in enumerate(sorted(by_lang.items())):
        if progress is not None:
            progress(0.3 + 0.1 * n / len(by_lang), desc=f"storing {lang}")
        chunks = [NewChunk(seq=seq, page=1, page_end=1, heading=None, lang=labels[i], text=texts[i], embedding=vectors[i])
                  for seq, i in enumerate(members)]
        store.add_document(sha256=f"{benchmark.name}:{lang}".encode().hex().ljust(64, "0")[:64],
                           text_sha256=f"{benchmark.name}:{lang}", file=f"{benchmark.name}-{lang}.txt",
                           title=f"{benchmark.name} ({lang})", lang=lang, lang_source="user", pages=1, size=0,
                           model_id=model_id(encoder), chunks=chunks)
    if policy is not None:
        # An index of another policy (IVF forced) is built as the store builds one when it crosses a tier:
        # from every vector at once, here by reopening the store without its index file.
        store.close()
        for path in Path(folder).glob("index-g*.faiss"):
            path.unlink()
        store = Store.open(folder, policy=policy)
    chunk_to_candidate: dict[int, int] = {}
    for doc in store.documents():
        members = by_lang[doc.file.removeprefix(f"{benchmark.name}-").removesuffix(".txt")]
        corpus = store.embeddings(docs=[doc.id])
        rows = store.fetch_chunks(corpus.ids.tolist())
        for chunk_id in corpus.ids.tolist():
            chunk_to_candidate[chunk_id] = members[rows[chunk_id]["seq"]]
    agreement = float(np.mean([labels[i] == c.lang for i, c in enumerate(benchmark.candidates)]))
    return store, chunk_to_candidate, agreement


REFERENCE = re.compile(r"^\s*((?:Art\.|Article|Artikel|Articolo|Artículo|Kifungu|§)\s*\d+)")


def reference_queries(benchmark: Benchmark) -> Benchmark:
    """The benchmark with each query replaced by the provision reference that heads its relevant
    passage in the query's language (``Art. 175``, ``§ 7``, ``Article 7``): the exact-term queries a
    practitioner types. Queries whose passage has no such heading are left out."""
    by_id = {c.id: c for c in benchmark.candidates}
    queries = []
    for query in benchmark.queries:
        own = [by_id[i] for i in sorted(benchmark.relevant.get(query.id, ())) if i in by_id and by_id[i].lang == query.lang]
        match = REFERENCE.match(own[0].text) if own else None
        if match:
            queries.append(Query(id=query.id, lang=query.lang, text=match.group(1)))
    return replace(benchmark, name=f"{benchmark.name}-references", queries=queries,
                   relevant={q.id: benchmark.relevant[q.id] for q in queries},
                   groups={q.id: benchmark.groups[q.id] for q in queries if q.id in benchmark.groups})


def quoted_queries(benchmark: Benchmark) -> Benchmark:
    """The benchmark's questions that quote a phrase in double quotes (hybrid search requires such a
    phrase as written)."""
    return _only(benchmark, "quoted", lambda q: bool(quoted_phrases(q.text)))


def fused_queries(benchmark: Benchmark) -> Benchmark:
    """The benchmark's questions for which hybrid search fuses keyword evidence at all (a quoted phrase,
    or mostly reference terms: :func:`app.search.keyword_weight`). On every other question hybrid
    returns dense search's ranking, so these are the questions on which the two can differ: a whole
    benchmark is compared on them without asking the rest."""
    return _only(benchmark, "fused", lambda q: keyword_weight(q.text) > 0)


def _only(benchmark: Benchmark, name: str, keep: Callable[[Query], bool]) -> Benchmark:
    queries = [q for q in benchmark.queries if keep(q)]
    return replace(benchmark, name=f"{benchmark.name}-{name}", queries=queries,
                   relevant={q.id: benchmark.relevant[q.id] for q in queries},
                   groups={q.id: benchmark.groups[q.id] for q in queries if q.id in benchmark.groups})


def evaluate_product(benchmark: Benchmark, encoder: Encoder, *, folder: Path, mode: Mode | Literal["keywords"] = "dense",
                     keywords: Keywords = "references", policy: IndexPolicy | None = None,
                     progress: Progress | None = None) -> dict:
    """Build the store (see the module's doc), ask every query, score; JSON-ready."""
    return evaluate_modes(benchmark, encoder, folder=folder, modes=[mode], keywords=keywords, policy=policy,
                          progress=progress)[0]


def evaluate_modes(benchmark: Benchmark, encoder: Encoder, *, folder: Path, modes: list[Mode | Literal["keywords"]],
                   keywords: Keywords = "references", policy: IndexPolicy | None = None,
                   progress: Progress | None = None) -> list[dict]:
    """:func:`evaluate_product` for several modes on one store (built and encoded once): one result each."""
    started = time.perf_counter()
    store, chunk_to_candidate, agreement = build_store(benchmark, encoder, folder, policy=policy, progress=progress)
    build_s = time.perf_counter() - started
    results = []
    try:
        for mode in modes:
            started = time.perf_counter()
            result = ask_and_score(benchmark, encoder, store, chunk_to_candidate, mode=mode, keywords=keywords,
                                   progress=progress)
            result["langid_accuracy"] = round(agreement, 4)
            result["timing"] = {"build_s": round(build_s, 1), "search_s": round(time.perf_counter() - started, 1)}
            results.append(result)
    finally:
        store.close()
    return results


def ask_and_score(benchmark: Benchmark, encoder: Encoder, store: Store, chunk_to_candidate: dict[int, int], *,
                  mode: str, keywords: Keywords, progress: Progress | None = None) -> dict:
    """Ask every question of ``benchmark`` through the product's search on a store :func:`build_store` filled, and score it.

    ``chunk_to_candidate`` maps the store's chunk ids to the benchmark's candidates (from
    :func:`build_store`); one store serves many calls (modes, or one question at a time as
    ``scripts/hybrid_per_question.py`` does). Returns the result dict of :func:`evaluate_product`.
    """
    languages, query_lang, candidate_lang, relevant, _ = index_benchmark(benchmark)
    n = len(benchmark.candidates)
    own = np.full(relevant.shape, np.inf)
    pooled = np.full(relevant.shape, np.inf)
    lang_count, own_share = [], []
    answered: dict[str, list[bool]] = {}  # keywords mode: did the index match anything at all, per language
    own_figures: dict[str, list[tuple[float, float]]] = {}  # keywords mode: (recall@10, AP) in the query's language
    for q, query in enumerate(benchmark.queries):
        if progress is not None and q % 50 == 0:
            progress(0.4 + 0.6 * q / len(benchmark.queries), desc=f"query {q + 1}/{len(benchmark.queries)}")
        if mode == "keywords":  # the keyword index alone (every word of the question), as hybrid's other half
            ranked = store.search_text(query.text, limit=n)
            answered.setdefault(query.lang, []).append(bool(ranked))
        else:
            ranked = [h.chunk_id for h in search(store, encoder, query.text, k=n, mode=mode, query_lang=query.lang,
                                                 keywords=keywords).results]
        order = np.array([chunk_to_candidate[c] for c in ranked], dtype=np.int64)
        pooled_rank = np.full(n, np.inf)
        pooled_rank[order] = np.arange(1, len(order) + 1)
        own_rank = np.full(n, np.inf)
        order_langs = candidate_lang[order]
        for lang in np.unique(order_langs):
            in_lang = order[order_langs == lang]
            own_rank[in_lang] = np.arange(1, len(in_lang) + 1)
        valid = relevant[q] >= 0
        pooled[q, valid] = pooled_rank[relevant[q, valid]]
        own[q, valid] = own_rank[relevant[q, valid]]
        if mode == "keywords":
            mine = own_rank[[r for r in relevant[q, valid] if candidate_lang[r] == query_lang[q]]]
            if len(mine):
                ranks = np.sort(mine)
                found = np.isfinite(ranks)
                ap = float(np.sum(np.arange(1, found.sum() + 1) / ranks[found]) / len(ranks))
                own_figures.setdefault(query.lang, []).append((float(np.mean(ranks <= 10)), ap))
        top = order_langs[:10]
        lang_count.append(len(set(top.tolist())))
        own_share.append(float(np.mean(top == query_lang[q])) if len(top) else 0.0)
    relevant_lang = np.where(relevant >= 0, candidate_lang[np.where(relevant >= 0, relevant, 0)], -1)
    result = score(RelevantRanks(languages, query_lang, relevant_lang, own, pooled))
    result["summary"]["languages_in_top_10"] = float(np.mean(lang_count))
    result["summary"]["own_language_share_top_10"] = float(np.mean(own_share))
    if answered:
        # the trainer's means skip queries whose relevant passages have no rank, so beside a partial
        # (keyword) ranking the share of questions it answers at all is the figure to read
        result["keyword_hits_by_language"] = {lang: round(float(np.mean(v)), 3) for lang, v in sorted(answered.items())}
        # and the figures that count a question matched nothing for as a miss: Recall@10 and mAP of the
        # relevant passages in the question's own language (keyword search cannot cross languages)
        result["keyword_by_language"] = {
            lang: {"recall_at_10": round(float(np.mean([r for r, _ in v])), 4), "map": round(float(np.mean([a for _, a in v])), 4)}
            for lang, v in sorted(own_figures.items())}
    return {"benchmark": benchmark.name, "mode": mode, "keywords": keywords if mode == "hybrid" else None,
            "index": store.index_description(),
            "counts": {"queries": len(benchmark.queries), "candidates": n, "relevant": int((relevant >= 0).sum())}, **result}


def write_product_report(result: dict, out_dir: Path) -> Path:
    """``REPORT.md`` and plots of one product evaluation (a result of :func:`evaluate_modes`, with its
    ``model`` label): the trainer's report, plus the product path's own lines."""
    return write_report(result, out_dir, notes=_report_notes(result),
                        title=f"{result['benchmark']} through the product: {result['mode']}, {result.get('model', '?')}")


def _report_notes(result: dict) -> list[str]:
    s = result["summary"]
    mode = result["mode"] + (f" (keywords: {result['keywords']})" if result.get("keywords") else "")
    notes = [(f"- through the product (`python -m app evaluate`): search mode {mode}; index {result['index']}; "
              f"language ID agrees with the benchmark on {100 * result.get('langid_accuracy', 0):.1f}% of the passages"),
             (f"- first page: {s['languages_in_top_10']:.2f} languages among the first ten results on average, "
              f"{s['own_language_share_top_10']:.2f} of them in the query's own language")]
    if result.get("command"):
        notes.append(f"- command: `{result['command']}`")
    return notes
