"""The concurrency soak in the suite: 8 HTTP clients (2 uploading, 4 searching, 1 deleting, 1 correcting
languages) against one ``app.py`` for 45 s, fixed seed (``tests/soak.py``; ``bench/soak.py`` runs it for
3 minutes and records the latencies)."""

from __future__ import annotations

import pytest

from tests.soak import CLIENTS, make_pdfs, run_soak
from tests.ui_server import start_app


def test_eight_clients_mixing_every_kind_of_call_lose_nothing(tmp_path):
    from tests.pdf_factory import DEBIAN_PACKAGES, fonts_available

    if not fonts_available():
        pytest.skip(f"Noto fonts are missing: apt-get install -y {DEBIAN_PACKAGES}")
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "app").mkdir()
    pdfs = make_pdfs(tmp_path / "pdfs", 24)
    server = start_app(tmp_path / "app", env={"POLYLEX_THREADS": "1"})
    try:
        result = run_soak(server.url, pdfs, seconds=45)
    finally:
        server.stop()
    assert sum(CLIENTS.values()) == 8
    assert result.server_errors == [], result.server_errors
    assert result.missing_after == [] and result.unexpected_after == []  # exactly what was reported, no more
    assert result.uploads_reported >= 2 and result.calls.get("search", 0) >= 4, result
    assert "Traceback" not in server.log.read_text(errors="replace"), server.log_tail()
