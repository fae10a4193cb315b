"""A concurrency soak through the HTTP API: 8 clients mixing uploads, searches, deletes and language
corrections against one running ``app.py``, for a fixed time, with a fixed seed.

Used by ``tests/test_soak.py`` (a short run in the suite) and ``bench/soak.py`` (3 minutes, latencies
to ``bench/results/soak.json``). Counted: calls per kind, server errors (any failure other than the
app's own refusal of an edit to a document another client deleted meanwhile), the latency of each
kind, and at the end whether the library holds exactly what was reported added and not deleted.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS = {"upload": 2, "search": 4, "delete": 1, "language": 1}  # 8 in all
QUERIES = ["Who has the right to life and liberty?", "Wer hat das Recht auf Leben?", "Kila mtu ana haki gani?",
           "равны в достоинстве и правах", "Article 3", "¿Quién tiene derecho a la libertad?"]
LANGS = ["en", "de", "es", "ru", "sw"]
DELETED_ELSEWHERE = "not in the library any more"


@dataclass
class SoakResult:
    seconds: float
    calls: dict[str, int] = field(default_factory=dict)
    refused_deleted_elsewhere: int = 0
    server_errors: list[str] = field(default_factory=list)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    uploads_reported: int = 0
    missing_after: list[str] = field(default_factory=list)
    unexpected_after: list[str] = field(default_factory=list)


def make_pdfs(folder: Path, count: int) -> list[Path]:
    """``count`` small PDFs with distinct text (none is a duplicate of another)."""
    from tests.pdf_factory import UDHR, make_pdf

    return [make_pdf(folder / f"soak-{i:03d}-{LANGS[i % len(LANGS)]}.pdf",
                     [[f"Register entry {i}"] + UDHR[LANGS[i % len(LANGS)]]], title=f"Entry {i}")
            for i in range(count)]


def _library(client) -> dict[str, int]:
    outputs = client.predict([], [], None, api_name="/refresh_components")
    table = next(o for o in outputs if isinstance(o, dict) and "headers" in o)
    return {row[2]: int(row[0]) for row in table["data"]}


def run_soak(url: str, pdfs: list[Path], *, seconds: float, seed: int = 20261129) -> SoakResult:
    """Drive the app at ``url`` with 8 clients for ``seconds``; see the module's doc."""
    from gradio_client import Client, handle_file

    rng = random.Random(seed)
    lock = threading.Lock()
    latencies: dict[str, list[float]] = defaultdict(list)
    result = SoakResult(seconds=seconds)
    added: dict[str, int] = {}  # file -> doc id, reported added and not (yet) deleted
    queue = list(pdfs)
    stop = time.monotonic() + seconds

    def timed(kind: str, call):
        start = time.perf_counter()
        try:
            value = call()
        except Exception as exc:  # noqa: BLE001 - sorted into refusals and server errors below
            if DELETED_ELSEWHERE in str(exc):
                with lock:
                    result.refused_deleted_elsewhere += 1
                return None
            with lock:
                result.server_errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
            return None
        with lock:
            latencies[kind].append(time.perf_counter() - start)
        return value

    def uploader(client) -> None:
        while time.monotonic() < stop:
            with lock:
                if not queue:
                    return
                path = queue.pop(0)
            outcome = timed("upload", lambda path=path: client.predict([handle_file(str(path))], "auto", api_name="/upload"))
            if outcome and 'data-status="added"' in outcome[0]:
                doc_id = _library(client).get(path.name)
                with lock:
                    result.uploads_reported += 1
                    if doc_id is not None:
                        added[path.name] = doc_id
            elif outcome is not None:
                with lock:
                    result.server_errors.append(f"upload of {path.name} not added: {outcome[0][:200]}")

    def searcher(client, number: int) -> None:
        while time.monotonic() < stop:
            cards = timed("search", lambda number=number: client.predict(QUERIES[number % len(QUERIES)], "auto", 5, [], [],
                                                                         "dense", "default", api_name="/search"))
            number += 1
            if cards is not None and 'class="plx-card"' not in cards[0] and "library is empty" not in cards[0]:
                with lock:
                    result.server_errors.append(f"search without result cards: {cards[0][:200]}")

    def deleter(client) -> None:
        while time.monotonic() < stop:
            time.sleep(2.0)
            with lock:  # the id is read under the lock: another client may drop the name meanwhile
                candidates = sorted(added)
                name = rng.choice(candidates) if len(candidates) > 3 else None
                doc_id = added.get(name)
            if doc_id is None:
                continue
            _library(client)  # the document list gets its choices in this session, as the page does on load
            if timed("delete", lambda doc_id=doc_id: client.predict(doc_id, api_name="/delete_document")) is not None:
                with lock:
                    added.pop(name, None)

    def corrector(client) -> None:
        while time.monotonic() < stop:
            time.sleep(1.0)
            with lock:  # read the id here: the deleter may pop the name before the call below
                candidates = sorted(added)
                doc_id = added[rng.choice(candidates)] if candidates else None
            if doc_id is None:
                continue
            if doc_id not in _library(client).values():
                # deleted between the read above and this page's refresh: the page no longer offers it
                # (Gradio refuses a choice it did not offer), so a user could not ask; neither do we
                continue
            timed("language", lambda doc_id=doc_id: client.predict(doc_id, rng.choice(LANGS), api_name="/set_language"))

    clients = {kind: [Client(url, verbose=False) for _ in range(n)] for kind, n in CLIENTS.items()}
    # one document first, so that the searchers' first calls find a library to search
    seed_client, first = clients["upload"][0], queue.pop(0)
    seed_client.predict([handle_file(str(first))], "auto", api_name="/upload")
    added[first.name] = _library(seed_client)[first.name]
    result.uploads_reported += 1
    threads = [threading.Thread(target=uploader, args=(c,)) for c in clients["upload"]]
    threads += [threading.Thread(target=searcher, args=(c, i)) for i, c in enumerate(clients["search"])]
    threads += [threading.Thread(target=deleter, args=(c,)) for c in clients["delete"]]
    threads += [threading.Thread(target=corrector, args=(c,)) for c in clients["language"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 600)

    import numpy as np

    result.calls = {kind: len(values) for kind, values in latencies.items()}
    result.latency_ms = {kind: {"p50": round(float(np.percentile(values, 50)) * 1000, 1),
                                "p95": round(float(np.percentile(values, 95)) * 1000, 1)}
                         for kind, values in latencies.items() if values}
    library = _library(Client(url, verbose=False))
    result.missing_after = sorted(set(added) - set(library))
    result.unexpected_after = sorted(set(library) - set(added))
    return result
