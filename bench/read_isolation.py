"""Benchmark the cost of reading each file in its own limited worker process (issue 15).

The same PDFs (1-page and 20-page text PDFs in several scripts) are read in the app's process
(``app.pdf.read_pdf`` + ``app.scan.ocr_pdf``) and through ``app.read_worker.read_isolated``; the
overhead per file is the difference of the medians, set against the time a whole ingest of the file
takes with the shipped default model (chunking, language ID, encoding, storing).

Usage: python bench/read_isolation.py     (about 2 minutes on 2 cores)
Writes bench/results/read_isolation.json.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ingest import ingest_pdf  # noqa: E402
from app.pdf import read_pdf  # noqa: E402
from app.read_worker import read_isolated  # noqa: E402
from app.scan import ocr_pdf  # noqa: E402
from app.store import Store  # noqa: E402
from corpora.settings import get_settings  # noqa: E402
from tests import pdf_factory as factory  # noqa: E402

REPEATS = 5


def median_seconds(run) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from trainer.encoder import load_encoder

    settings = get_settings()
    encoder = load_encoder("default")
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {f"1 page, {lang}": factory.make_udhr_pdf(folder / f"{lang}.pdf", [lang]) for lang in ("en", "ar", "am")}
        files["20 pages, en+ru+hi"] = factory.make_udhr_pdf(folder / "twenty.pdf", ["en", "ru", "hi", "de"] * 5)
        read_isolated(files["1 page, en"], settings=settings)  # starts the fork server once, as the app's first file does
        for name, path in files.items():
            inside = median_seconds(lambda p=path: ocr_pdf(read_pdf(p, max_mb=100), settings=settings))
            isolated = median_seconds(lambda p=path: read_isolated(p, settings=settings))
            started = time.perf_counter()
            with Store.open(folder / f"store-{path.stem}") as store:
                ingest_pdf(read_isolated(path, settings=settings), store=store, encoder=encoder)
            whole = time.perf_counter() - started
            rows.append({"file": name, "read_in_process_s": round(inside, 4), "read_isolated_s": round(isolated, 4),
                         "overhead_s": round(isolated - inside, 4), "whole_ingest_s": round(whole, 3),
                         "overhead_share_of_ingest": round((isolated - inside) / whole, 3)})
            print(rows[-1], flush=True)
    result = {"benchmark": "read_isolation", "date": datetime.date.today().isoformat(),
              "command": "python bench/read_isolation.py", "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "repeats": REPEATS, "load_average_before": [round(v, 2) for v in load_before],
              "load_average_after": [round(v, 2) for v in os.getloadavg()], "files": rows,
              "median_overhead_s": round(statistics.median(r["overhead_s"] for r in rows), 4),
              "median_overhead_share": round(statistics.median(r["overhead_share_of_ingest"] for r in rows), 3)}
    out = ROOT / "bench" / "results" / "read_isolation.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"median overhead {result['median_overhead_s']} s a file, {result['median_overhead_share']:.1%} of an ingest")


if __name__ == "__main__":
    main()
