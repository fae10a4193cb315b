"""Security basics against the real app server: with POLYLEX_AUTH set nothing but the empty page shell
answers without a login (plain HTTP to every data route and to each API endpoint), and hostile file
names are stored and offered for download safely, the originals only through the library's own ids."""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from app.ingest import ingest_paths
from app.store import Store
from tests import pdf_factory as factory
from tests.app_helpers import FakeEncoder
from tests.ui_server import start_app

USER, PASSWORD = "clerk", "s3cret-Passw0rd"


def _request(url: str, *, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


@pytest.fixture(scope="module")
def locked_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("locked-app")
    # a document already in the library: its name and text must not leak without a login
    secret = factory.make_pdf(tmp / "secret-settlement.pdf", [["Article 1", "The settlement amount is 4,200,000."]])
    with Store.open(tmp / "store") as store:
        [result] = ingest_paths([secret], store=store, encoder=FakeEncoder(model_id="unused"))
        original = store.original_file(result.doc_id)
    server = start_app(tmp, env={"POLYLEX_AUTH": f"{USER}:{PASSWORD}"})
    yield server, original
    server.stop()


ROUTES = [("GET", "config"), ("GET", "gradio_api/info"), ("POST", "gradio_api/upload"),
          ("POST", "gradio_api/queue/join"), ("GET", "gradio_api/queue/data?session_hash=x"),
          ("POST", "gradio_api/api/search"), ("POST", "gradio_api/call/search"), ("POST", "gradio_api/call/upload"),
          ("POST", "gradio_api/call/load_demo")]


def test_no_data_route_answers_without_a_login(locked_app):
    server, original = locked_app
    base = server.url.rstrip("/")
    for method, route in ROUTES + [("GET", f"gradio_api/file={original}"),
                                   ("GET", f"gradio_api/file={urllib.parse.quote(str(original))}")]:
        status, body, _ = _request(f"{base}/{route}", method=method, data=b"{}" if method == "POST" else None,
                                   headers={"Content-Type": "application/json"})
        assert status in (401, 403), (route, status, body[:200])
        assert b"settlement" not in body
    status, body, _ = _request(base + "/")
    assert status == 200  # the empty shell that draws the login form
    assert b"settlement" not in body and b"Polylex \xe2\x80\x94 search" not in body


def test_after_login_the_api_answers_and_still_serves_no_path_the_client_names(locked_app):
    server, original = locked_app
    base = server.url.rstrip("/")
    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    status, _, headers = _request(base + "/login", method="POST", data=form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, status
    cookie = "; ".join(c.split(";")[0] for c in headers.get_all("set-cookie") or [])
    status, body, _ = _request(base + "/gradio_api/info", headers={"Cookie": cookie})
    assert status == 200 and "/search" in json.loads(body)["named_endpoints"]
    # the stored original is not reachable by its path, logged in or not: only through a passage's document id
    status, body, _ = _request(f"{base}/gradio_api/file={original}", headers={"Cookie": cookie})
    assert status in (403, 404), status
    assert not body.startswith(b"%PDF")
    wrong = urllib.parse.urlencode({"username": USER, "password": "guess"}).encode()
    status, _, _ = _request(base + "/login", method="POST", data=wrong,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 401)


@pytest.mark.parametrize("name", ["bad\nname\x07.pdf", "..pdf", "-rf .pdf", "ﾟ'\"><b>x<b>.pdf"])
def test_hostile_file_names_are_stored_and_offered_safely(tmp_path, name):
    from app import ui_pages, ui_resources

    folder = tmp_path / "in"
    folder.mkdir()
    path = factory.make_udhr_pdf(folder / name, ["en"])
    with Store.open(tmp_path / "store") as store:
        [result] = ingest_paths([path], store=store, encoder=FakeEncoder())
        assert result.status == "added"
        assert store.document(result.doc_id).file == name  # kept as given, shown escaped
        stored = store.original_file(result.doc_id)
        assert stored.parent == store.folder / "originals" and stored.name == f"{store.document(result.doc_id).sha256}.pdf"
        chunk_id = int(store.chunk_ids()[0])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ui_resources, "get_store", lambda: Store.open(tmp_path / "store"))
        _, _, download = ui_pages.show_page(chunk_id)
    offered = Path(download["value"])
    private = offered.parent.parent
    assert private.parent == Path(tempfile.gettempdir()) and private.name.startswith("polylex-downloads-")
    assert private.stat().st_mode & 0o077 == 0  # readable by this process's user only
    assert offered.name == ui_pages.download_name(name)
    assert all(ch.isprintable() for ch in offered.name) and "/" not in offered.name and not offered.name.startswith(".")
    assert offered.read_bytes() == path.read_bytes()
