"""A crash at any step of an ingest (or a reindex) leaves a store that doctor finds consistent,
holding the whole document or none of it.

The process is killed for real: ``POLYLEX_CRASH_AT=<step>`` makes it ``os._exit`` at that step
(``app.store.crash_point``), with no cleanup, no rollback and no ``finally`` blocks, as a power cut
or ``kill -9`` would. The fast tests run the library with the fake encoder in a subprocess; one test
runs the real ``python -m app ingest`` with the real model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.ingest import ingest_paths
from app.store import CRASH_ENV, Store
from tests import pdf_factory as factory
from tests.app_helpers import FakeEncoder

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not factory.fonts_available(),
                                reason=f"Noto fonts missing: apt-get install {factory.DEBIAN_PACKAGES}")

INGEST_STEPS = ["after-read", "after-encode", "before-commit", "after-commit", "index-written", "after-index"]

_SCRIPT = textwrap.dedent("""
    import sys
    from app.ingest import ingest_paths, reindex
    from app.store_open import open_store
    from tests.app_helpers import FakeEncoder
    import tempfile
    from pathlib import Path
    store = open_store(sys.argv[2], cache=Path(tempfile.gettempdir()) / "polylex-crash-cache")
    if sys.argv[1] == "ingest":
        ingest_paths(sys.argv[3:], store=store, encoder=FakeEncoder())
    else:
        reindex(store, FakeEncoder(dim=32, model_id="fake-v2"), batch=2)
""")


def run(action: str, store: Path | str, *paths: Path, crash: str | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(CRASH_ENV, None)
    if crash:
        env[CRASH_ENV] = crash
    done = subprocess.run([sys.executable, "-c", _SCRIPT, action, str(store), *map(str, paths)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdfs")
    return (factory.make_pdf(folder / "first.pdf", [factory.UDHR["en"], factory.UDHR["de"]]),
            factory.make_pdf(folder / "second.pdf", [factory.UDHR["ru"], factory.UDHR["am"]]))


def assert_whole_or_nothing(store_dir: Path, expected_chunks: dict[str, int]) -> dict[str, int]:
    with Store.open(store_dir) as store:  # opening catches FAISS up with SQLite
        report = store.doctor(repair=False)
        assert report.ok, report.problems
        held = {d.file: d.chunks for d in store.documents()}
        for file, chunks in held.items():
            assert chunks == expected_chunks[file]
            assert store.db.execute("SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.doc_id "
                                    "WHERE d.file = ?", [file]).fetchone()[0] == chunks
        return held


@pytest.mark.parametrize("step", INGEST_STEPS)
def test_crash_during_ingest_leaves_whole_document_or_none(tmp_path, pdfs, step):
    first, second = pdfs
    store_dir = tmp_path / "store"
    with Store.open(store_dir) as store:  # setup and follow-up in this process; only the crash in a child
        ingest_paths([first], store=store, encoder=FakeEncoder())
        expected = {"first.pdf": store.documents()[0].chunks}
    expected["second.pdf"] = 4  # two articles on each of two pages
    assert run("ingest", store_dir, second, crash=step) == 70
    held = assert_whole_or_nothing(store_dir, expected)
    committed = step in ("after-commit", "index-written", "after-index")
    assert set(held) == ({"first.pdf", "second.pdf"} if committed else {"first.pdf"})
    # and the store goes on working: the second file ends up added exactly once
    with Store.open(store_dir) as store:
        ingest_paths([second], store=store, encoder=FakeEncoder())
    assert set(assert_whole_or_nothing(store_dir, expected)) == {"first.pdf", "second.pdf"}


@pytest.mark.parametrize("step", ["reindex-staged", "reindex-index-written"])
def test_crash_during_reindex_keeps_the_old_model_in_force(tmp_path, pdfs, step):
    store_dir = tmp_path / "store"
    with Store.open(store_dir) as store:
        ingest_paths(list(pdfs), store=store, encoder=FakeEncoder())
    assert run("reindex", store_dir, crash=step) == 70
    with Store.open(store_dir) as store:
        assert store.model_id == "fake-bag-of-words"
        assert store.index.d == 64
        assert store.doctor(repair=False).problems == [
            "an unfinished reindex to 'fake-v2' is staged (run reindex again to finish it)"]
    assert run("reindex", store_dir) == 0
    with Store.open(store_dir) as store:
        assert store.model_id == "fake-v2"
        assert store.index.d == 32
        assert store.doctor(repair=False).ok


def test_real_cli_killed_before_commit_then_after_commit(tmp_path, pdfs):
    """``python -m app ingest`` with the real model: killed inside the transaction, nothing is
    stored; killed after the commit, the document is whole and FAISS catches up on the next start."""
    store_dir = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLYLEX_STORE": str(store_dir)}
    command = [sys.executable, "-m", "app", "ingest", str(pdfs[0])]
    killed = subprocess.run(command, env={**env, CRASH_ENV: "before-commit"}, cwd=ROOT, capture_output=True,
                            timeout=300)
    assert killed.returncode == 70
    assert assert_whole_or_nothing(store_dir, {}) == {}
    killed = subprocess.run(command, env={**env, CRASH_ENV: "after-commit"}, cwd=ROOT, capture_output=True,
                            timeout=300)
    assert killed.returncode == 70
    doctor = subprocess.run([sys.executable, "-m", "app", "doctor", "--no-repair"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert doctor.returncode == 0
    assert doctor.stdout.strip().splitlines()[-1].startswith("consistent: 1 documents")


# --- PostgreSQL: the server rolls back what a killed process had not committed ---------------------------

PG_STEPS = ["after-encode", "before-commit", "after-commit"]


@pytest.mark.parametrize("step", PG_STEPS)
def test_postgres_crash_during_ingest_leaves_whole_document_or_none(pg_url, tmp_path, pdfs, step):
    from app.store_open import open_store

    first, second = pdfs
    with open_store(pg_url, cache=tmp_path) as store:
        ingest_paths([first], store=store, encoder=FakeEncoder())
    assert run("ingest", pg_url, second, crash=step) == 70
    with open_store(pg_url, cache=tmp_path) as store:
        assert store.doctor(repair=False).ok
        held = {d.file: d.chunks for d in store.documents()}
        assert set(held) == ({"first.pdf", "second.pdf"} if step == "after-commit" else {"first.pdf"})
        assert store.chunk_count() == sum(held.values())
        ingest_paths([second], store=store, encoder=FakeEncoder())  # goes on working, added exactly once
        assert sorted(d.file for d in store.documents()) == ["first.pdf", "second.pdf"]


def test_postgres_crash_during_reindex_keeps_the_old_model_in_force(pg_url, tmp_path, pdfs):
    from app.store_open import open_store

    with open_store(pg_url, cache=tmp_path) as store:
        ingest_paths(list(pdfs), store=store, encoder=FakeEncoder())
    assert run("reindex", pg_url, crash="reindex-staged") == 70
    with open_store(pg_url, cache=tmp_path) as store:
        assert store.model_id == "fake-bag-of-words" and store.dim == 64
        assert store.doctor(repair=False).problems == [
            "an unfinished reindex to 'fake-v2' is staged (run reindex again to finish it)"]
    assert run("reindex", pg_url) == 0
    with open_store(pg_url, cache=tmp_path) as store:
        assert (store.model_id, store.dim) == ("fake-v2", 32)
        assert store.doctor(repair=False).ok
