"""Fault campaign: damaged PDFs and killed processes; counts of what happened, crashes and inconsistencies.

1. **300 damaged PDFs** (``tests/mutations.py``, seed 20261129: byte flips, truncation, deleted and
   duplicated xref entries, corrupted streams, wrong lengths, made from real test PDFs in 4 scripts)
   ingested 25 at a time through ``app.ingest.ingest_paths`` (each file read in its limited worker
   process): every outcome is counted by reason; after each batch ``doctor`` must find the store
   consistent, and every file reported added must be in it.
2. **kill -9 at random points**: ``python -m app ingest``, ``python -m app delete`` and ``python -m
   app reindex`` processes (the real models; reindexes alternate between the base and the default
   model, ingests use the store's current one) are killed after a random delay; after each,
   ``doctor`` (no repair) must find the store consistent — a reindex staged but not finished is the
   one state it may report, since running it again completes it — and every document reported added
   by a finished run must be present.

Usage: python bench/faults.py [--kills 30]     (about 6 minutes on 2 cores)
Writes bench/results/faults.json and prints the counts.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ingest import ingest_paths  # noqa: E402
from app.store import Store  # noqa: E402
from tests import pdf_factory as factory  # noqa: E402
from tests.app_helpers import FakeEncoder  # noqa: E402
from tests.mutations import mutated_pdfs  # noqa: E402

SEED = 20261129


def damaged_campaign(folder: Path, count: int) -> dict:
    sources = [factory.make_udhr_pdf(folder / f"src-{lang}.pdf", [lang]) for lang in ("en", "ar", "am", "zh")]
    files = mutated_pdfs(sources, folder / "mutated", count=count, seed=SEED)
    reasons: collections.Counter = collections.Counter()
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    inconsistent, missing = 0, 0
    started = time.perf_counter()
    with Store.open(folder / "store-damaged") as store:
        for start in range(0, len(files), 25):
            batch = files[start:start + 25]
            results = ingest_paths([p for p, _ in batch], store=store, encoder=FakeEncoder())
            for (_, kind), result in zip(batch, results):
                key = result.status if result.status != "refused" else "refused: " + result.reason.split(":")[0][:48]
                reasons[key] += 1
                by_kind[kind][result.status] += 1
                if result.status == "added" and store.document(result.doc_id) is None:
                    missing += 1
            inconsistent += not store.doctor(repair=False).ok
    return {"files": len(files), "outcomes": dict(reasons.most_common()),
            "by_kind": {k: dict(v) for k, v in by_kind.items()}, "crashes": 0, "inconsistent_after_batch": inconsistent,
            "reported_added_but_missing": missing, "seconds": round(time.perf_counter() - started, 1)}


STAGED = "an unfinished reindex to"


def _spec_of(model: str | None, ids: dict[str, str]) -> str:
    return ids.get(model or "", "default")


def kill_campaign(folder: Path, kills: int) -> dict:
    from app.ingest import model_id
    from trainer.encoder import load_encoder

    ids = {model_id(load_encoder(spec)): spec for spec in ("base", "default")}
    rng = random.Random(SEED)
    store_dir = folder / "store-kills"
    # every file's text is its own (an entry number), so none is a duplicate of another
    pdfs = [factory.make_pdf(folder / f"kill-{i}-{lang}.pdf", [[f"Register entry {i}", *factory.UDHR[lang]]])
            for i, lang in enumerate(["en", "de", "es", "ru", "ar", "hi", "am", "zh", "sw"] * 4)]
    env = {**os.environ, "POLYLEX_STORE": str(store_dir), "POLYLEX_THREADS": "1"}
    reported: set[str] = set()
    runs = collections.Counter()
    inconsistent, lost = 0, 0
    current = "default"
    for i in range(kills):
        reindexing = i % 6 == 5 and reported
        deleting = i % 6 == 2 and reported
        if reindexing:
            target = "base" if current == "default" else "default"
            command = [sys.executable, "-m", "app", "reindex", "--model", target]
        elif deleting:
            target = rng.choice(sorted(reported))
            command = [sys.executable, "-m", "app", "delete", target]
        else:
            target = str(pdfs[i % len(pdfs)])
            command = [sys.executable, "-m", "app", "ingest", target, "--model", current]
        kind = "reindex" if reindexing else "delete" if deleting else "ingest"
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        delay = rng.uniform(0.5, 20.0)  # a whole run takes about 8-12 s here: some finish, most are killed
        try:
            out, _ = process.communicate(timeout=delay)
            runs[f"{kind} finished"] += 1
            if kind == "ingest" and out.startswith(("added", "duplicate")):
                reported.add(Path(target).name)
            if deleting and process.returncode == 0:
                reported.discard(target)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            runs[f"{kind} killed"] += 1
            if deleting:  # a killed delete may have committed or not: either outcome is consistent
                reported.discard(target)
        with Store.open(store_dir) as store:
            problems = [p for p in store.doctor(repair=False).problems if not p.startswith(STAGED)]
            inconsistent += bool(problems)
            current = _spec_of(store.model_id, ids)
            present = {d.file for d in store.documents()}
            missing = reported - present
            lost += len(missing)
            reported -= missing  # counted once
    return {"runs": kills, **dict(sorted(runs.items())), "inconsistent_after_run": inconsistent,
            "reported_added_but_lost": lost, "documents_at_end": len(reported), "model_at_end": current}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "faults.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        damaged = damaged_campaign(Path(tmp), args.files)
        print(json.dumps(damaged, indent=2), flush=True)
        kills = kill_campaign(Path(tmp), args.kills)
        print(json.dumps(kills, indent=2), flush=True)
    result = {"benchmark": "faults", "date": datetime.date.today().isoformat(),
              "command": f"python bench/faults.py --files {args.files} --kills {args.kills}",
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "seed": SEED,
              "load_average_before": [round(v, 2) for v in load_before],
              "load_average_after": [round(v, 2) for v in os.getloadavg()], "damaged_pdfs": damaged, "kills": kills}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
