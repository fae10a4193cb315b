"""Concurrency soak through the HTTP API: 8 clients for 3 minutes against one ``python app.py``.

    python bench/soak.py [--seconds 180] [--pdfs 60]

2 clients upload (distinct small PDFs in 5 languages), 4 search, 1 deletes and 1 corrects languages,
all through the app's HTTP API (``gradio_client``), fixed seed (``tests/soak.py``). Recorded: calls,
server errors (0 expected), the app's clean refusals of edits to documents deleted meanwhile, p50/p95
latency per kind of call, and whether the library holds exactly what was reported added and not
deleted. The app runs with ``POLYLEX_THREADS=1`` on this shared 2-core machine.
Writes ``bench/results/soak.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.soak import CLIENTS, make_pdfs, run_soak  # noqa: E402
from tests.ui_server import start_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--pdfs", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="polylex-soak-") as tmp:
        tmp = Path(tmp)
        (tmp / "pdfs").mkdir()
        (tmp / "app").mkdir()
        pdfs = make_pdfs(tmp / "pdfs", args.pdfs)
        server = start_app(tmp / "app", env={"POLYLEX_THREADS": "1"})
        try:
            result = run_soak(server.url, pdfs, seconds=args.seconds)
        finally:
            server.stop()
        tracebacks = server.log.read_text(errors="replace").count("Traceback")
    report = {"benchmark": "HTTP soak: 8 clients mixing uploads, searches, deletes and language corrections",
              "command": "python bench/soak.py " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_before": load_before,
                          "load_avg_after": os.getloadavg()},
              "clients": CLIENTS, "server_tracebacks": tracebacks, **dataclasses.asdict(result)}
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
