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
import time
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


# --- kill -9 at random points: the campaign of bench/faults.py, in the suite with the fake encoder ----------

_KILL_SCRIPT = textwrap.dedent("""
    import sys
    from app.ingest import ingest_paths, reindex
    from app.store import Store
    from tests.app_helpers import FakeEncoder
    store = Store.open(sys.argv[2])
    model = store.model_id or "fake-bag-of-words"
    dims = {"fake-bag-of-words": 64, "fake-v2": 32}
    if sys.argv[1] == "ingest":
        for result in ingest_paths(sys.argv[3:], store=store, encoder=FakeEncoder(dim=dims[model], model_id=model)):
            print(result.status, result.path, flush=True)
    elif sys.argv[1] == "delete":
        store.delete_document(int(sys.argv[3]))
        print("deleted", flush=True)
    else:
        other = "fake-v2" if model == "fake-bag-of-words" else "fake-bag-of-words"
        reindex(store, FakeEncoder(dim=dims[other], model_id=other), batch=1)
        print("reindexed", flush=True)
""")


def test_kill_9_at_random_points_of_20_ingests_and_10_deletes_or_reindexes(tmp_path):
    """SIGKILL after a random delay (seed fixed): after every run doctor finds the store consistent (a
    staged, unfinished reindex being the one state it may report) and nothing reported added is lost."""
    import random
    import signal

    from trainer.adapters import sha256_of

    rng = random.Random(20261129)
    store_dir = tmp_path / "store"
    pdfs = [factory.make_pdf(tmp_path / f"entry-{i}.pdf", [[f"Register entry {i}", *factory.UDHR[lang]]])
            for i, lang in enumerate(["en", "de", "es", "ru", "sw"] * 4)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(CRASH_ENV, None)
    # The kill delays scale with how long one ingest takes on this machine (mostly Python's imports):
    # fixed seconds left a slow machine with nothing but kills before the first page was read.
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", _KILL_SCRIPT, "ingest", str(tmp_path / "calibration"), str(pdfs[0])],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    one_ingest = time.monotonic() - started
    reported: dict[str, int] = {}
    outcomes = {"killed": 0, "finished": 0}
    plan = ["ingest"] * 20 + ["delete"] * 5 + ["reindex"] * 5
    rng.shuffle(plan)
    for n, kind in enumerate(plan):
        args = [str(pdfs[n % len(pdfs)])] if kind == "ingest" else []
        if kind == "delete":
            if not reported:
                continue
            name = rng.choice(sorted(reported))
            args = [str(reported[name])]
        process = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, kind, str(store_dir), *args], cwd=ROOT,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            out, _ = process.communicate(timeout=rng.uniform(0.1, 1.6) * one_ingest)
            outcomes["finished"] += 1
            if kind == "ingest" and out.startswith("added"):
                with Store.open(store_dir) as store:
                    doc = store.by_hash(sha256_of(Path(args[0])))
                    reported[Path(args[0]).name] = doc.id
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            outcomes["killed"] += 1
        if kind == "delete":
            reported.pop(name, None)  # a killed delete may have committed or not: both are consistent
        with Store.open(store_dir) as store:
            problems = [p for p in store.doctor(repair=False).problems if not p.startswith("an unfinished reindex")]
            assert problems == [], (n, kind, problems)
            present = {d.file for d in store.documents()}
            assert set(reported) <= present, (n, kind, set(reported) - present)
    assert outcomes["killed"] >= 5 and outcomes["finished"] >= 5, outcomes  # both outcomes were exercised
