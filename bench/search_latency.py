"""Search latency end to end (query encoding + FAISS + SQLite fetch) at 10k, 100k and 1M chunks.

    python bench/search_latency.py [--sizes 10000,100000,1000000] [--limit 150] [--timed 60]

For each size a store is built the way ``app.store`` builds one (same schema, same
``IndexPolicy``: exact below 20k chunks, IVF256 from 20k, IVF2048 from 200k), then a fresh
process opens it and times ``app.search.search`` against the bare query encoding of the same
queries, interleaved query by query so both see the same machine load (the CPU here is shared).

Vectors: real multilingual-e5-small embeddings of XQuAD-R candidate sentences (11 languages),
and beyond those, each further chunk a copy of a real one moved to cosine 0.9 of it by Gaussian
noise: clustered like real text, unlike uniform random vectors, on which any approximate index
looks worse than on real data. Queries are real XQuAD-R questions. Recall@10 compares the
store's index with exact inner-product search over the same vectors.

Hybrid mode (dense + FTS5/BM25, fused by reciprocal rank) is timed at the sizes in
``--hybrid-sizes`` (default 10k and 100k): for those the FTS5 index is built after the rows are
written. Each copied chunk repeats its source's text, so a word matches ~N/1,650 times more rows
than in a real library of that size: BM25 has more to rank, and the hybrid figure is pessimistic.
At the other sizes the FTS5 index is not built (dense search does not read it), which keeps the
1M build to a few minutes.

Peak RSS is that of the searching process (encoder + open store), not of the build.
Threads: ``--threads 1`` by default. On this shared 2-core machine, with other jobs running, two
OpenMP threads per process made one query encoding take 1.1 s instead of 70 ms (threads spinning
at barriers while the other core is taken); the figure reported is what a loaded server sees.
Writes ``bench/results/search_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COSINE_TO_SOURCE = 0.9


def peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _percentiles(values: list[float]) -> dict[str, float]:
    array = np.array(values) * 1000
    return {"p50_ms": round(float(np.percentile(array, 50)), 3), "p95_ms": round(float(np.percentile(array, 95)), 3)}


def prepare(work: Path, limit: int) -> dict:
    """Encode the real base passages and queries once; children read them from ``work``."""
    from app.ingest import encode_passages
    from corpora.registry import load_benchmark
    from trainer.encoder import load_encoder

    bench = load_benchmark("xquad-r", limit=limit)
    encoder = load_encoder("default")
    start = time.perf_counter()
    passages = encode_passages(encoder, [c.text for c in bench.candidates], batch_size=64)
    queries = encoder.encode_query([q.text for q in bench.queries], normalize_embeddings=True, batch_size=64)
    np.save(work / "passages.npy", passages.astype("float32"))
    np.save(work / "queries.npy", np.asarray(queries, dtype="float32"))
    (work / "texts.json").write_text(json.dumps({
        "passages": [c.text for c in bench.candidates], "langs": [c.lang for c in bench.candidates],
        "queries": [q.text for q in bench.queries], "query_langs": [q.lang for q in bench.queries]},
        ensure_ascii=False))
    return {"base_passages": len(bench.candidates), "queries": len(bench.queries),
            "encode_s": round(time.perf_counter() - start, 1)}


def synthesize(base: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` normalised vectors: the base ones, then noisy copies at cosine ~0.9 of a random base vector."""
    rng = np.random.default_rng(seed)
    sources = np.concatenate([np.arange(min(n, len(base))), rng.integers(0, len(base), max(0, n - len(base)))])
    out = np.empty((n, base.shape[1]), dtype="float32")
    scale = np.tan(np.arccos(COSINE_TO_SOURCE))  # |noise| relative to the unit source vector
    for start in range(0, n, 100_000):
        part = sources[start:start + 100_000]
        block = base[part].copy()
        if start + len(part) > len(base):
            noise = rng.standard_normal(block.shape, dtype="float32") / np.sqrt(base.shape[1])
            mask = np.arange(start, start + len(part)) >= len(base)
            block[mask] += scale * noise[mask]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + len(part)] = block
    return out, sources


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Exact top-k row numbers by inner product, (n_queries, k), in blocks to bound memory."""
    best_scores = np.full((len(queries), k), -np.inf, dtype="float32")
    best_rows = np.zeros((len(queries), k), dtype="int64")
    for start in range(0, len(vectors), 200_000):
        scores = queries @ vectors[start:start + 200_000].T
        rows = np.argpartition(-scores, k, axis=1)[:, :k]
        cand_scores = np.take_along_axis(scores, rows, axis=1)
        merged_scores = np.concatenate([best_scores, cand_scores], axis=1)
        merged_rows = np.concatenate([best_rows, rows + start], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_rows = np.take_along_axis(merged_rows, order, axis=1)
    return best_rows


def build(work: Path, n: int, fts: bool = False) -> dict:
    """Child process: a store of ``n`` chunks with its index, as ``app.store`` would hold it."""
    from app.store import Store, _blob

    texts = json.loads((work / "texts.json").read_text())
    vectors, sources = synthesize(np.load(work / "passages.npy"), n)
    folder = work / f"store-{n}"
    store = Store.open(folder)
    timings = {}
    start = time.perf_counter()
    for (name,) in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        store.db.execute(f"DROP TRIGGER {name}")  # no FTS5 for this benchmark (dense search only)
    with store.db.atomic():
        docs = (n + 999) // 1000
        store.db["documents"].insert_all(
            ({"id": d + 1, "sha256": f"{d:064x}", "text_sha256": f"{d:064x}", "file": f"doc-{d}.pdf",
              "title": f"Document {d}", "lang": "und", "lang_source": "detected", "pages": 10,
              "chunks": min(1000, n - d * 1000), "bytes": 0, "added": "", "model": "bench"} for d in range(docs)),
            batch_size=1000)
        store.db.conn.executemany(
            "INSERT INTO chunks (id, doc_id, seq, page, page_end, heading, lang, text, embedding) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((i + 1, i // 1000 + 1, i % 1000, 1, 1, None, texts["langs"][s], texts["passages"][s], _blob(v))
             for i, (s, v) in enumerate(zip(sources, vectors))))
        store.db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", [str(1)])
        store._set_meta("model", "bench")
        store._set_meta("dim", str(vectors.shape[1]))
    timings["sqlite_write_s"] = round(time.perf_counter() - start, 1)
    if fts:
        start = time.perf_counter()
        store.db["chunks"].rebuild_fts()
        timings["fts_build_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    ids = np.arange(1, n + 1, dtype="int64")
    index = store._build_index(ids, vectors)
    timings["index_build_s"] = round(time.perf_counter() - start, 1)
    store._write_index(index, 1)
    with store.db.atomic():
        store._set_meta("factory", store.policy.factory_for(n))
    start = time.perf_counter()
    truth = exact_top(vectors, np.load(work / "queries.npy")) + 1  # row -> chunk id
    timings["exact_truth_s"] = round(time.perf_counter() - start, 1)
    np.save(work / f"truth-{n}.npy", truth)
    store.close()
    return {"factory": store.policy.factory_for(n), **timings,
            "db_mb": round((folder / "polylex.db").stat().st_size / 2**20),
            "build_peak_rss_mb": peak_rss_mb()}


def measure(work: Path, n: int, timed: int, hybrid: bool = False) -> dict:
    """Child process: open the store fresh, then time search() against bare query encoding."""
    import faiss

    from app.search import encode_query, search
    from app.store import Store
    from trainer.encoder import load_encoder

    encoder = load_encoder("default")
    encoder.polylex_id = "bench"  # the bench stores record this model id
    texts = json.loads((work / "texts.json").read_text())
    queries = np.load(work / "queries.npy")
    truth = np.load(work / f"truth-{n}.npy")
    start = time.perf_counter()
    store = Store.open(work / f"store-{n}")
    open_s = time.perf_counter() - start

    # recall@10 of the store's index against exact search, over all queries
    _, found = store.index.search(queries, 10)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))

    rng = np.random.default_rng(1)
    picks = rng.choice(len(texts["queries"]), size=min(timed, len(texts["queries"])), replace=False)
    for i in picks[:5]:  # warm-up: first calls allocate
        search(store, encoder, texts["queries"][i], k=10)
    encode_times, search_times, faiss_times, fetch_times, hybrid_times = [], [], [], [], []
    for i in picks:
        query = texts["queries"][i]
        t0 = time.perf_counter()
        vector = encode_query(encoder, query)
        t1 = time.perf_counter()
        hits = store.search_vectors(vector, 10)
        t2 = time.perf_counter()
        store.fetch_chunks([chunk_id for chunk_id, _ in hits])
        t3 = time.perf_counter()
        response = search(store, encoder, query, k=10)
        t4 = time.perf_counter()
        assert len(response.results) == 10
        if hybrid:
            t5 = time.perf_counter()
            assert len(search(store, encoder, query, k=10, mode="hybrid").results) == 10
            hybrid_times.append(time.perf_counter() - t5)
        encode_times.append(t1 - t0)
        faiss_times.append(t2 - t1)
        fetch_times.append(t3 - t2)
        search_times.append(t4 - t3)
    end_to_end, encode = _percentiles(search_times), _percentiles(encode_times)
    hybrid_figures = {}
    if hybrid:
        hybrid_figures = {"hybrid_end_to_end": _percentiles(hybrid_times),
                          "ratio_p50_hybrid_to_encoding": round(_percentiles(hybrid_times)["p50_ms"] / encode["p50_ms"], 3)}
    return {
        "chunks": n, "index": store.index_description(), "faiss_threads": faiss.omp_get_max_threads(),
        "open_s": round(open_s, 2), "recall_at_10": round(recall, 4),
        "end_to_end": end_to_end, "query_encoding": encode,
        "faiss_search": _percentiles(faiss_times), "sqlite_fetch": _percentiles(fetch_times),
        "ratio_p50_end_to_end_to_encoding": round(end_to_end["p50_ms"] / encode["p50_ms"], 3),
        **hybrid_figures,
        "peak_rss_mb": peak_rss_mb(),
        "timed_queries": len(picks),
    }


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # OMP_NUM_THREADS inherited
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--limit", type=int, default=150, help="XQuAD-R question groups per language (base set)")
    parser.add_argument("--timed", type=int, default=60, help="queries timed per size")
    parser.add_argument("--hybrid-sizes", default="10000,100000",
                        help="sizes at which hybrid (dense + FTS5) search is timed too ('' for none)")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for torch and FAISS (default 1)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "search_latency.json"))
    parser.add_argument("--work", help="folder to keep the encoded base set in (reused when present)")
    parser.add_argument("--child", nargs=3, metavar=("ROLE", "WORK", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--with-hybrid", action="store_true", help=argparse.SUPPRESS)  # child: FTS5 and hybrid timing
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before torch or faiss is imported
    if args.child:
        role, work, n = args.child
        result = (build(Path(work), int(n), fts=args.with_hybrid) if role == "build"
                  else measure(Path(work), int(n), args.timed, hybrid=args.with_hybrid))
        print(json.dumps(result))
        return

    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-bench-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        if (work / "base.json").exists():
            base = json.loads((work / "base.json").read_text())
        else:
            base = prepare(work, args.limit)
            (work / "base.json").write_text(json.dumps(base))
        print(f"base: {base}", file=sys.stderr)
        sizes = []
        hybrid_sizes = {int(s) for s in args.hybrid_sizes.split(",") if s.strip()}
        for n in (int(s) for s in args.sizes.split(",")):
            hybrid = ["--with-hybrid"] if n in hybrid_sizes else []
            built = _child("--threads", str(args.threads), *hybrid, "--child", "build", str(work), str(n))
            print(f"{n}: built {built}", file=sys.stderr)
            measured = _child("--timed", str(args.timed), "--threads", str(args.threads), *hybrid,
                              "--child", "measure", str(work), str(n))
            print(f"{n}: {measured}", file=sys.stderr)
            sizes.append({**measured, "build": built})
            for path in work.glob(f"store-{n}/*"):
                path.unlink()
    goal = {s["chunks"]: s["ratio_p50_end_to_end_to_encoding"] <= 1.25 and s["recall_at_10"] >= 0.98
            for s in sizes if s["chunks"] >= 100_000}
    result = {
        "benchmark": "search latency end to end (app.search.search, dense and hybrid, k=10)",
        "command": "python bench/search_latency.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "threads": args.threads,
                    "load_avg_at_start": load_at_start, "load_avg_at_end": os.getloadavg()},
        "vectors": f"real e5-small embeddings of {base['base_passages']} XQuAD-R sentences; beyond those, noisy "
                   f"copies at cosine {COSINE_TO_SOURCE} of a random real one",
        "queries": f"{base['queries']} real XQuAD-R questions (recall); {args.timed} timed per size",
        "goal": "p50 end-to-end <= 1.25 x p50 bare query encoding, recall@10 >= 0.98, at 100k and 1M",
        "goal_met": goal,
        "sizes": sizes,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
