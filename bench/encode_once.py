"""Encode once: ingesting a library whose documents share boilerplate, with and without reusing the
embeddings already in the store (``StoreBackend.known_embeddings``).

    python bench/encode_once.py [--documents 12] [--shared 15] [--own 5]

The corpus is real legal text: articles of the Swiss Federal Constitution (English, from the
``constitutions`` data set) laid out as ``--documents`` PDFs, each made of the same ``--shared``
articles (the boilerplate: identical text in every document, as standard clauses are in a firm's
contracts) and ``--own`` articles of its own. The folder is ingested twice with the real default
model through ``app.ingest.ingest_paths``, into two fresh stores: once as Polylex does, once with
the store's lookup turned off (every document encodes all its passages). Reported: passages encoded,
seconds, and the ratio. Writes ``bench/results/encode_once.json``.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_library(folder: Path, documents: int, shared: int, own: int) -> list[Path]:
    from corpora import load_benchmark
    from tests.pdf_factory import make_pdf

    articles = [c.text for c in load_benchmark("constitutions", langs=["en"]).candidates if c.id.startswith("c:en:ch/")]
    boilerplate, rest = articles[:shared], articles[shared:]
    paths = []
    for d in range(documents):
        mine = rest[d * own:(d + 1) * own]
        lines = [f"Ordinance {d + 1}"] + [line for article in boilerplate + mine for line in article.split("\n")]
        paths.append(make_pdf(folder / f"ordinance-{d + 1:02d}.pdf", [lines[i:i + 40] for i in range(0, len(lines), 40)],
                              title=f"Ordinance {d + 1}"))
    return paths


def run(paths: list[Path], folder: Path, encoder, *, reuse: bool) -> dict:
    from app.ingest import ingest_paths
    from app.store import Store

    encoded = 0
    original = encoder.encode_document

    def counting(texts, **kwargs):
        nonlocal encoded
        encoded += len(texts)
        return original(texts, **kwargs)

    encoder.encode_document = counting
    try:
        with Store.open(folder) as store:
            if not reuse:
                store.known_embeddings = lambda model_id, texts: {}  # as before: nothing found in the library
            start = time.perf_counter()
            results = ingest_paths(paths, store=store, encoder=encoder)
            seconds = time.perf_counter() - start
            passages = store.chunk_count()
    finally:
        encoder.encode_document = original
    assert all(r.status == "added" for r in results), [(r.path, r.status, r.reason) for r in results]
    return {"passages_stored": passages, "passages_encoded": encoded, "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=12)
    parser.add_argument("--shared", type=int, default=15)
    parser.add_argument("--own", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "encode_once.json"))
    args = parser.parse_args()
    os.environ.setdefault("POLYLEX_THREADS", "1")

    from trainer.encoder import load_encoder

    encoder = load_encoder("default")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-encode-once-") as tmp:
        tmp = Path(tmp)
        (tmp / "pdfs").mkdir()
        paths = make_library(tmp / "pdfs", args.documents, args.shared, args.own)
        without = run(paths, tmp / "store-without", encoder, reuse=False)
        with_reuse = run(paths, tmp / "store-with", encoder, reuse=True)
    result = {"benchmark": "encode once: ingest of a library sharing boilerplate, with and without reuse",
              "command": "python bench/encode_once.py " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_before": load_before,
                          "load_avg_after": os.getloadavg()},
              "corpus": f"{args.documents} PDFs, each the same {args.shared} articles of the Swiss Federal Constitution "
                        f"(en) and {args.own} of its own",
              "without_reuse": without, "with_reuse": with_reuse,
              "ratio_seconds": round(with_reuse["seconds"] / without["seconds"], 3),
              "ratio_encoded": round(with_reuse["passages_encoded"] / without["passages_encoded"], 3)}
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
