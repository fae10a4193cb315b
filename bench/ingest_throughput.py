"""Ingest throughput (pages/s) against the bare encoder on the same chunks.

    python bench/ingest_throughput.py [--pages-per-lang 5] [--threads 1]

Generates multilingual PDFs with ``tests/pdf_factory.py``: XQuAD paragraphs (Wikipedia text in
11 languages and 9 scripts; real fonts, RTL Arabic shaped) laid out as numbered articles ("Artikel 3",
"Статья 3", "第3条", …) so the legal-structure chunker has headings to find. Then:

- ``ingest``: ``app.ingest.ingest_paths`` on the folder into a fresh store: PDF parsing, chunking
  with the model's tokenizer, language ID, encoding, SQLite transaction, FAISS write.
- ``bare``: ``app.ingest.encode_passages`` on exactly the chunk texts that ingest produced, all
  at once (sorted by length) at ingest's batch size, run before and after the ingest (the machine
  is shared; the mean of the two is used); once more at batch size 32 for comparison.
- ``stages``: each non-encoding stage timed on its own over the same files; their sum against the
  encoding time gives a second, load-independent estimate of the ratio.
Medians of three bare runs and two ingests, alternated.

Goal: ingest chunks/s >= 0.8 x bare encoder chunks/s (encoding should be the only real cost).
Writes ``bench/results/ingest_throughput.json``.
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

ARTICLE = {"en": "Article {}", "de": "Artikel {}", "es": "Artículo {}", "ru": "Статья {}", "ar": "المادة {}",
           "hi": "अनुच्छेद {}", "zh": "第{}条", "el": "Άρθρο {}", "tr": "Madde {}", "vi": "Điều {}", "th": "มาตรา {}"}


def make_pdfs(folder: Path, data: Path, pages_per_lang: int, paragraphs_per_page: int = 3) -> int:
    from tests.pdf_factory import make_pdf

    pages_total = 0
    for lang, pattern in ARTICLE.items():
        squad = json.loads((data / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        contexts = [p["context"] for article in squad["data"] for p in article["paragraphs"]]
        pages, number = [], 1
        for _ in range(pages_per_lang):
            page = []
            for _ in range(paragraphs_per_page):
                page += [pattern.format(number), contexts[number - 1]]
                number += 1
            pages.append(page)
        make_pdf(folder / f"xquad-{lang}.pdf", pages, title=f"XQuAD {lang}")
        pages_total += pages_per_lang
    return pages_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages-per-lang", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for torch (default 1, see "
                        "bench/search_latency.py on a shared machine)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ingest_throughput.json"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    from app.chunking import chunk_pages
    from app.ingest import ENCODE_BATCH, chunk_budget, encode_passages, ingest_paths, languages_of, token_counter
    from app.pdf import read_pdf
    from app.store import NewChunk, Store
    from corpora.settings import get_settings
    from trainer.encoder import load_encoder

    settings = get_settings()
    encoder = load_encoder("default")
    encode_passages(encoder, ["warm-up " * 50] * 8)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-ingest-bench-") as tmp:
        folder = Path(tmp) / "pdfs"
        folder.mkdir()
        pages = make_pdfs(folder, settings.data, args.pages_per_lang)
        files = sorted(folder.glob("*.pdf"))

        # the chunk texts ingest will produce, for the bare encoder runs
        start = time.perf_counter()
        docs = [read_pdf(f, max_mb=settings.max_mb) for f in files]
        read_s = time.perf_counter() - start
        count = token_counter(encoder)
        start = time.perf_counter()
        chunked = [chunk_pages(d.pages, count_tokens=count, budget=chunk_budget(encoder)) for d in docs]
        chunk_s = time.perf_counter() - start
        start = time.perf_counter()
        labelled = [languages_of(c) for c in chunked]
        langid_s = time.perf_counter() - start
        texts = [c.text for chunks in chunked for c in chunks]
        tokens = sum(count(texts))

        # bare, ingest, bare, ingest, bare: alternated so both see the same (shared) machine
        def bare() -> float:
            t0 = time.perf_counter()
            encode_passages(encoder, texts, batch_size=ENCODE_BATCH)
            return time.perf_counter() - t0

        bare_runs, ingest_runs = [bare()], []
        for run in range(2):
            store = Store.open(Path(tmp) / f"store-{run}")
            t0 = time.perf_counter()
            results = ingest_paths(files, store=store, encoder=encoder)
            ingest_runs.append(time.perf_counter() - t0)
            assert all(r.status == "added" for r in results), [r.line() for r in results]
            assert store.chunk_count() == len(texts)
            store.close()
            bare_runs.append(bare())
        pages = sum(r.pages for r in results)  # as printed: a long page of text may flow onto the next
        start = time.perf_counter()
        vectors = encode_passages(encoder, texts, batch_size=32)
        bare_32 = time.perf_counter() - start

        # the store's own share: transaction + FAISS write, with the vectors already computed
        other = Store.open(Path(tmp) / "store-write")
        start = time.perf_counter()
        offset = 0
        for doc, chunks, (langs, lang, _) in zip(docs, chunked, labelled):
            other.add_document(
                sha256=doc.sha256, text_sha256=doc.text_sha256, file=doc.path.name, title=doc.title, lang=lang,
                lang_source="detected", pages=len(doc.pages), size=doc.size, model_id="bench",
                chunks=[NewChunk(i, c.page, c.page_end, c.heading, code, c.text, vectors[offset + i])
                        for i, (c, code) in enumerate(zip(chunks, langs))])
            offset += len(chunks)
        store_s = time.perf_counter() - start

    bare_s, ingest_s = float(np.median(bare_runs)), float(np.median(ingest_runs))
    others = read_s + chunk_s + langid_s + store_s
    result = {
        "benchmark": "ingest throughput vs bare encoder on the same chunks",
        "command": "python bench/ingest_throughput.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "threads": args.threads,
                    "load_avg_at_start": load_start, "load_avg_at_end": os.getloadavg()},
        "corpus": {"pdfs": len(files), "pages": pages, "chunks": len(texts), "tokens": tokens,
                   "languages": sorted(ARTICLE), "source": "XQuAD paragraphs as numbered articles"},
        "ingest": {"seconds_runs": [round(t, 2) for t in ingest_runs], "seconds": round(ingest_s, 2),
                   "pages_per_s": round(pages / ingest_s, 2), "chunks_per_s": round(len(texts) / ingest_s, 2)},
        "bare_encoder": {"batch_size": ENCODE_BATCH, "seconds_runs": [round(t, 2) for t in bare_runs],
                         "chunks_per_s": round(len(texts) / bare_s, 2),
                         "chunks_per_s_at_batch_32": round(len(texts) / bare_32, 2)},
        "ratio_ingest_to_bare": round(bare_s / ingest_s, 3),
        "ratio_from_stage_times": round(bare_s / (bare_s + others), 3),
        "goal": "ratio >= 0.8",
        "goal_met": bare_s / ingest_s >= 0.8,
        "stages_s": {"read_pdf": round(read_s, 2), "chunking_with_tokenizer": round(chunk_s, 2),
                     "language_id": round(langid_s, 2), "encoding (bare, median)": round(bare_s, 2),
                     "sqlite_and_faiss_write": round(store_s, 2)},
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
