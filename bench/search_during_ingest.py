"""Search latency while a 1,000-page document is being ingested, against the same searches idle.

    python bench/search_during_ingest.py [--pages 1000] [--searches 60]

As the app does it: one process, one store, one loaded default encoder; the ingest runs in a thread
(the UI's write pool) while searches run in the main thread (the UI's search pool), both with
``POLYLEX_THREADS=1`` torch threads as recommended on a shared machine. The library first holds a
few documents (UDHR in 9 languages); the idle searches are timed, then the 1,000-page PDF (real
text: XQuAD paragraphs as numbered articles, 3 a page) starts ingesting and the same searches are
timed again until it ends or they are done. Goal: p95 during ingest <= 2 x idle p95.
Writes ``bench/results/search_during_ingest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = ["Who has the right to life, liberty and security?", "Wer wählt den Bundesrat?", "Kila mtu ana haki gani?",
           "Каждый ли имеет право на жизнь?", "¿Quién tiene derecho a la libertad?", "人人有权享有生命吗？"]


def big_pdf(path: Path, data: Path, pages: int) -> Path:
    from tests.pdf_factory import make_pdf

    squad = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    contexts = [p["context"] for article in squad["data"] for p in article["paragraphs"]]
    content, number = [], 1
    for _ in range(pages):
        page = []
        for _ in range(3):
            page += [f"Article {number}", contexts[(number - 1) % len(contexts)] + f" (Register {number}.)"]
            number += 1
        content.append(page)
    return make_pdf(path, content, title="A 1,000-page register")


def timed_searches(store, encoder, count: int, stop: threading.Event | None = None) -> list[float]:
    from app.search import search

    times = []
    for i in range(count):
        if stop is not None and stop.is_set():
            break
        start = time.perf_counter()
        search(store, encoder, QUERIES[i % len(QUERIES)], k=10)
        times.append(time.perf_counter() - start)
    return times


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(values, 50)) * 1000, 1),
            "p95_ms": round(float(np.percentile(values, 95)) * 1000, 1), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "search_during_ingest.json"))
    args = parser.parse_args()
    os.environ["POLYLEX_THREADS"] = "1"

    from app.ingest import ingest_paths
    from app.store import Store
    from corpora.settings import get_settings
    from tests.pdf_factory import UDHR, make_pdf
    from trainer.encoder import load_encoder

    encoder = load_encoder("default")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-during-ingest-") as tmp:
        tmp = Path(tmp)
        library = [make_pdf(tmp / f"udhr-{lang}.pdf", [UDHR[lang]]) for lang in UDHR]
        pdf = big_pdf(tmp / "register.pdf", get_settings().data, args.pages)
        with Store.open(tmp / "store") as store:
            ingest_paths(library, store=store, encoder=encoder)
            timed_searches(store, encoder, 5)  # warm-up
            idle = timed_searches(store, encoder, args.searches)
            done = threading.Event()
            outcome: dict = {}

            def ingest() -> None:
                start = time.perf_counter()
                [result] = ingest_paths([pdf], store=store, encoder=encoder)
                outcome.update(status=result.status, reason=result.reason, chunks=result.chunks,
                               seconds=round(time.perf_counter() - start, 1))
                done.set()

            worker = threading.Thread(target=ingest)
            worker.start()
            time.sleep(5.0)  # past the PDF reading, into encoding: the busy part
            during = timed_searches(store, encoder, args.searches, stop=done)
            ingest_still_running = not done.is_set()
            worker.join()
    ratio = percentiles(during)["p95_ms"] / percentiles(idle)["p95_ms"]
    result = {"benchmark": "search latency during a large ingest vs idle (app.search.search, k=10, one process)",
              "command": "python bench/search_during_ingest.py " + " ".join(sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "threads": 1,
                          "load_avg_before": load_before, "load_avg_after": os.getloadavg()},
              "pages": args.pages, "ingest": outcome, "idle": percentiles(idle), "during_ingest": percentiles(during),
              "searches_all_during_ingest": ingest_still_running,
              "ratio_p95_during_to_idle": round(ratio, 2), "goal": "p95 during <= 2 x idle p95",
              "goal_met": ratio <= 2.0}
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
