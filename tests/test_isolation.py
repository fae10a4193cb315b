"""Hostile and huge input: each file is read in a worker process with a time and memory limit, files
over the page or passage limits are refused naming the limit, identical passages are encoded once,
and a seeded campaign of 300 damaged PDFs ends with every file added or refused with a reason, the
app process alive and the store consistent after each."""

from __future__ import annotations

import collections
import os

import pytest

from app.ingest import ingest_paths
from app.store import Store
from corpora.settings import get_settings
from tests import pdf_factory as factory
from tests.app_helpers import FakeEncoder, require
from tests.mutations import mutated_pdfs


@pytest.fixture(scope="module", autouse=True)
def fonts():
    require(factory.fonts_available(), f"Noto fonts are missing: apt-get install -y {factory.DEBIAN_PACKAGES}")


class CountingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def encode_document(self, texts, **kwargs):
        self.encoded += list(texts)
        return super().encode_document(texts, **kwargs)


def _ingest(paths, tmp_path, **overrides):
    settings = get_settings().with_overrides(**overrides)
    with Store.open(tmp_path / "store") as store:
        results = ingest_paths(paths, store=store, encoder=FakeEncoder(), settings=settings)
        assert store.doctor(repair=False).ok
        return results, [d.file for d in store.documents()]


def test_a_file_over_the_time_limit_is_refused_and_the_next_one_is_added(tmp_path):
    slow = factory.make_pdf(tmp_path / "slow.pdf", [[f"Section {n}", "A clause of the register."] for n in range(400)])
    results, stored = _ingest([slow], tmp_path, file_timeout=0.2)  # 400 pages take pypdf over a second
    assert results[0].status == "refused"
    assert "longer than 0.2 s (POLYLEX_FILE_TIMEOUT)" in results[0].reason
    good = factory.make_udhr_pdf(tmp_path / "good.pdf", ["sw"])
    results, stored = _ingest([good], tmp_path)
    assert [r.status for r in results] == ["added"] and stored == ["good.pdf"]


def test_a_reader_over_its_memory_limit_is_refused_and_the_app_carries_on(tmp_path):
    # 150 MB of padding inside a PDF (a sparse file: nothing written to disk); reading it needs more
    # memory than the worker's 100 MB, as any hostile file would need more than whatever the limit is
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.seek(150 * 1024 * 1024)
        handle.write(b"\n%%EOF\n")
    good = factory.make_udhr_pdf(tmp_path / "good.pdf", ["sw"])
    results, stored = _ingest([big], tmp_path, file_memory_mb=100, max_mb=500)
    assert results[0].status == "refused"
    assert results[0].reason.startswith("reading it needed more than 100 MB of memory (POLYLEX_FILE_MEMORY_MB)")
    results, stored = _ingest([good], tmp_path)
    assert stored == ["good.pdf"]


def test_page_text_and_passage_limits_name_the_limit(tmp_path):
    pages = [[f"Section {n}", f"Clause {n} applies to every party."] for n in range(1, 31)]
    long = factory.make_pdf(tmp_path / "thirty.pdf", pages)
    results, stored = _ingest([long], tmp_path, max_pages=20)
    assert results[0].reason == "30 pages, over the 20-page limit (POLYLEX_MAX_PAGES): split the file, or raise the limit"
    results, stored = _ingest([long], tmp_path, max_passages=10)
    assert results[0].status == "refused" and "over the 10-passage limit (POLYLEX_MAX_PASSAGES)" in results[0].reason
    results, stored = _ingest([long], tmp_path, max_text_mb=0.001)  # about 1,000 bytes: a page of 40 passes it
    assert results[0].status == "refused"
    assert results[0].reason.startswith("more than 0.001 MiB of text (by page ")
    assert "(POLYLEX_MAX_TEXT_MB): split the file, or raise the limit" in results[0].reason
    assert stored == []


def test_identical_passages_are_encoded_once(tmp_path):
    pages = [["Section 1", "The same boilerplate line on every page of the register."] for _ in range(120)]
    register = factory.make_pdf(tmp_path / "register.pdf", pages)
    encoder = CountingEncoder()
    with Store.open(tmp_path / "store") as store:
        [result] = ingest_paths([register], store=store, encoder=encoder)
        assert result.status == "added"
        assert result.chunks > 1
        assert len(encoder.encoded) == len(set(encoder.encoded)) < result.chunks
        rows = store.fetch_chunks(list(store.chunk_ids()))
        hits = store.search_vectors(encoder.encode_query([next(iter(rows.values()))["text"]])[0], k=result.chunks)
        assert len({round(score, 5) for _, score in hits}) == 1  # every copy carries the same vector


def test_300_damaged_pdfs_end_added_or_refused_with_a_reason_and_the_store_stays_consistent(tmp_path):
    sources = [factory.make_udhr_pdf(tmp_path / f"src-{lang}.pdf", [lang]) for lang in ("en", "ar", "am", "zh")]
    files = mutated_pdfs(sources, tmp_path / "mutated", count=300)
    outcomes: collections.Counter = collections.Counter()
    with Store.open(tmp_path / "store") as store:
        for start in range(0, len(files), 25):
            batch = files[start:start + 25]
            results = ingest_paths([p for p, _ in batch], store=store, encoder=FakeEncoder())
            assert len(results) == len(batch)
            for result in results:
                assert result.status in ("added", "refused", "duplicate"), result
                if result.status == "refused":
                    assert result.reason and "\n" not in result.reason
                    outcomes["refused: " + result.reason.split(":")[0].split("(")[0].strip()[:40]] += 1
                else:
                    outcomes[result.status] += 1
            assert store.doctor(repair=False).ok
        added = sum(n for k, n in outcomes.items() if k == "added")
        assert len(store.documents()) == added
    assert sum(outcomes.values()) == 300
    assert outcomes["added"] > 0 and sum(n for k, n in outcomes.items() if k.startswith("refused")) > 0


def test_the_reply_of_a_subverted_worker_cannot_run_code_in_the_app():
    import io
    import pickle
    import queue

    from app.read_worker import _pump

    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    messages: queue.Queue = queue.Queue()
    _pump(io.BytesIO(pickle.dumps(("page", 1, 2)) + pickle.dumps(("ok", Exploit()))), messages)
    assert messages.get_nowait() == ("page", 1, 2)
    assert messages.get_nowait() is None  # refused, as a dead worker: nothing was called


def test_doctor_removes_an_old_orphan_original_without_touching_chunks_or_faiss(tmp_path):
    import time

    good = factory.make_udhr_pdf(tmp_path / "good.pdf", ["sw"])
    with Store.open(tmp_path / "store") as store:
        ingest_paths([good], store=store, encoder=FakeEncoder())
        orphan = store.folder / "originals" / ("0" * 64 + ".pdf")
        orphan.write_bytes(b"%PDF-1.7 left by a crash before the commit")
        assert store.doctor(repair=False).ok  # a fresh one may belong to an ingest in progress
        old = time.time() - 2 * 3600
        os.utime(orphan, (old, old))
        generation = store.generation()
        report = store.doctor()
        assert report.problems == ["1 stored PDF(s) in originals/ belong to no document"]
        assert report.repaired == ["deleted the stored PDFs of no document"] and report.ok
        assert not orphan.exists() and store.generation() == generation
