"""Eight searches at once while an upload runs, through the app's HTTP API (``gradio_client``).

The app runs as ``python app.py`` in its own process with a temporary store. Searches and writes
use separate queue pools (``app/ui.py``), so a long upload must not make a search fail or wait
for the upload's end; every search returns result cards, and the upload adds its files.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ui_server import start_app

SEARCHES = 8
QUERIES = [
    "Who has the right to life and liberty?", "¿Quién tiene derecho a la libertad?",
    "Wer hat das Recht auf Leben?", "Kila mtu ana haki gani?", "Qui a droit à la sécurité?",
    "right to security of person", "равны в достоинстве и правах", "dignity and rights of all people",
]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    from tests.pdf_factory import DEBIAN_PACKAGES, UDHR, fonts_available, make_pdf

    if not fonts_available():
        pytest.skip(f"Noto fonts are missing: apt-get install -y {DEBIAN_PACKAGES}")
    folder = tmp_path_factory.mktemp("concurrency-pdfs")
    first = make_pdf(folder / "udhr-en.pdf", [UDHR["en"]], title="UDHR (en)")
    # The concurrent upload: several multi-page documents, so it is still running while the searches go.
    batch = [make_pdf(folder / f"udhr-{lang}-{copy}.pdf",
                      [[f"Copy {copy}, page {page}"] + UDHR[lang] for page in range(1, 7)], title=f"UDHR {lang} {copy}")
             for lang in ("de", "es", "ru", "sw") for copy in (1, 2)]
    return first, batch


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from gradio_client import Client

    server = start_app(tmp_path_factory.mktemp("concurrency-app"), env={"POLYLEX_CONCURRENCY": "4"})
    try:
        yield Client(server.url, verbose=False)
    finally:
        server.stop()


def _upload(client, paths):
    from gradio_client import handle_file

    return client.submit([handle_file(str(p)) for p in paths], "auto", api_name="/upload")


def test_eight_searches_while_an_upload_runs(client, pdfs):
    from gradio_client.utils import Status

    first, batch = pdfs
    report, _ = _upload(client, [first]).result(timeout=300)
    assert "added" in report
    assert "udhr-en.pdf" in report

    upload = _upload(client, batch)
    deadline = time.monotonic() + 120
    while (upload.status().code not in (Status.PROCESSING, Status.PROGRESS) and not upload.done()
           and time.monotonic() < deadline):
        time.sleep(0.1)
    assert not upload.done(), f"the upload ended before the searches started: {upload.status()}"

    def search(query: str) -> tuple[str, str, object]:  # cards, query language, the "on its page" choices
        return client.predict(query, "auto", 5, [], [], "dense", "default", api_name="/search")

    with ThreadPoolExecutor(SEARCHES) as pool:
        outcomes = list(pool.map(search, QUERIES[:SEARCHES]))
    upload_running_during_searches = not upload.done()

    for query, (cards, query_lang, _) in zip(QUERIES, outcomes, strict=True):
        assert 'class="plx-card"' in cards, (query, cards[:300])
        assert "Query language" in query_lang
    final, _ = upload.result(timeout=300)
    assert final.count('data-status="added"') == len(batch), final
    # Informative, not a timing assertion: the searches were answered while the upload still ran.
    assert upload_running_during_searches, "the searches only finished after the upload"
