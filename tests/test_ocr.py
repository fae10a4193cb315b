"""Scanned PDFs through the real Tesseract: read in their own language, page by page, with the limits
that keep one bad page from costing the rest; and every hit shown on its page with its words highlighted.

The scans are real text PDFs (fpdf2, Noto fonts) rendered by pdfium and written back as image-only
PDFs (``tests/scans.py``), so the words' positions on the scan are those of the text layer of the
original: the highlight on a scanned page is checked against the original's character boxes.
"""

from __future__ import annotations

import threading

import pytest

from app.errors import RefusedFile
from app.ingest import ingest_paths
from app.ocr import installed_models, tesseract_version
from app.page_view import hit_on_page
from app.pdf import read_pdf, require_text
from app.scan import ocr_pdf, pages_to_read
from app.store import Store
from corpora.settings import get_settings
from tests import pdf_factory as factory
from tests import scans
from tests.app_helpers import FakeEncoder, require

HAUSA = [
    "Sashi na 1",
    ("Su dai 'yan-adam, ana haihuwarsu ne duk 'yantattu, kuma kowannensu na da mutunci da hakkoki daidai da "
     "na kowa. Suna da hankali da tunani, saboda haka duk abin da za su aikata wa junansu, ya kamata su yi shi "
     "a cikin 'yan-uwanci."),
]


@pytest.fixture(scope="module", autouse=True)
def tesseract():
    require(tesseract_version() is not None, "Tesseract is not installed: scripts/install-system-packages.sh")
    require({"osd", "eng", "swa", "amh", "ara", "Latin", "Ethiopic"} <= installed_models(),
             "Tesseract models are missing: scripts/install-system-packages.sh installs them")
    require(factory.fonts_available(), f"Noto fonts are missing: apt-get install -y {factory.DEBIAN_PACKAGES}")


def settings(**overrides):
    return get_settings().with_overrides(**overrides)


@pytest.mark.parametrize("lang, hint, models", [
    ("sw", "sw", {"swa"}),
    ("am", "am", {"amh"}),
    ("am", None, {"Ethiopic", "amh"}),  # no hint: OSD cannot see Ethiopic; the script trial finds it
    ("ar", None, {"Arabic", "ara"}),
])
def test_a_scan_is_read_with_its_languages_model(tmp_path, lang, hint, models):
    source = factory.make_udhr_pdf(tmp_path / f"{lang}.pdf", [lang])
    scan = scans.make_scan(source, tmp_path / f"{lang}-scan.pdf", dpi=200)
    pdf = read_pdf(scan, max_mb=50)
    assert pages_to_read(pdf) == [1]
    done = []
    read = ocr_pdf(pdf, settings=settings(), lang=hint, on_page=lambda d, t: done.append((d, t)))
    assert done == [(1, 1)]
    assert read.unread == {}
    page = read.ocr[1]
    assert page.models in models
    assert page.confidence >= 70
    original = read_pdf(source, max_mb=50).pages[0]
    assert scans.cer(original, read.pages[0]) < 0.08, read.pages[0][:200]
    assert read.text_sha256 != pdf.text_sha256


def test_a_language_without_a_tesseract_model_is_read_with_its_script_and_says_so(tmp_path):
    source = factory.make_pdf(tmp_path / "ha.pdf", [HAUSA])
    scan = scans.make_scan(source, tmp_path / "ha-scan.pdf", dpi=200)
    read = ocr_pdf(read_pdf(scan, max_mb=50), settings=settings(), lang="ha")
    page = read.ocr[1]
    assert page.models == "Latin"
    assert "no model for Hausa" in page.note
    assert any("Hausa" in warning for warning in read.warnings())
    assert scans.cer(" ".join(HAUSA), read.pages[0]) < 0.08


def test_a_mixed_document_keeps_its_text_pages_and_reads_the_scanned_one(tmp_path):
    text = factory.make_udhr_pdf(tmp_path / "en.pdf", ["en"])
    scan = scans.make_scan(factory.make_udhr_pdf(tmp_path / "sw.pdf", ["sw"]), tmp_path / "sw-scan.pdf", dpi=200)
    mixed = scans.make_mixed(text, scan, tmp_path / "mixed.pdf")
    pdf = read_pdf(mixed, max_mb=50)
    assert pages_to_read(pdf) == [2]
    read = ocr_pdf(pdf, settings=settings())
    assert read.pages[0] == pdf.pages[0]  # the text layer is kept as it was
    assert sorted(read.ocr) == [2]
    assert "haki" in read.pages[1].lower()


def test_a_scan_put_in_sideways_is_turned_upright(tmp_path):
    source = factory.make_udhr_pdf(tmp_path / "en.pdf", ["en"])
    scan = scans.make_scan(source, tmp_path / "en-turned.pdf", dpi=200, rotate=90)
    read = ocr_pdf(read_pdf(scan, max_mb=50), settings=settings(), lang="en")
    assert read.ocr[1].rotation == 90
    assert scans.cer(read_pdf(source, max_mb=50).pages[0], read.pages[0]) < 0.05
    # boxes are on the page as it is stored (sideways): the text runs down the page, so words are tall
    tall = [w for w in read.ocr[1].words if len(w.text) >= 5]
    assert all((w.box[3] - w.box[1]) > (w.box[2] - w.box[0]) for w in tall)


def test_ocr_off_or_a_page_over_the_time_limit_leaves_pages_unread_with_the_reason(tmp_path):
    text = factory.make_udhr_pdf(tmp_path / "en.pdf", ["en"])
    scan = scans.make_scan(factory.make_udhr_pdf(tmp_path / "sw.pdf", ["sw"]), tmp_path / "sw-scan.pdf", dpi=200)
    mixed = read_pdf(scans.make_mixed(text, scan, tmp_path / "mixed.pdf"), max_mb=50)
    off = ocr_pdf(mixed, settings=settings(ocr="off"))
    assert off.unread == {2: "scanned page, not read: OCR is off (POLYLEX_OCR=off)"}
    slow = ocr_pdf(mixed, settings=settings(ocr_timeout=0.01))
    assert "longer than 0.01 s" in slow.unread[2]
    assert slow.warnings() == [f"1 page(s) not read (2): {slow.unread[2]}"]
    require_text(slow)  # page 1 has text: the document is still added
    only_scan = ocr_pdf(read_pdf(scan, max_mb=50), settings=settings(ocr_timeout=0.01))
    with pytest.raises(RefusedFile, match=r"^no text in 1 page\(s\) and OCR could not read them: OCR took longer"):
        require_text(only_scan)


def test_a_decompression_bomb_is_refused_without_being_decoded(tmp_path):
    psutil = pytest.importorskip("psutil")
    bomb = scans.make_image_bomb(tmp_path / "bomb.pdf", side=20_000)
    assert bomb.stat().st_size < 2_000_000  # 400 MB of pixels in under 2 MB
    process = psutil.Process()
    before = process.memory_info().rss
    read = ocr_pdf(read_pdf(bomb, max_mb=50), settings=settings())
    assert "20,000 x 20,000 pixels" in read.unread[1] and "POLYLEX_MAX_IMAGE_MPX" in read.unread[1]
    assert process.memory_info().rss - before < 150_000_000  # the 400 MB image was never decoded
    with pytest.raises(RefusedFile, match="megapixel"):
        require_text(read)


def test_a_300_page_scan_shows_progress_per_page_and_cancel_writes_nothing_of_it(tmp_path):
    first = factory.make_udhr_pdf(tmp_path / "first.pdf", ["en"])
    page = scans.make_scan(factory.make_udhr_pdf(tmp_path / "sw.pdf", ["sw"]), tmp_path / "sw-scan.pdf", dpi=150)
    long_scan = scans.repeat_pages(page, tmp_path / "gazette-300.pdf", pages=300)
    later = factory.make_udhr_pdf(tmp_path / "later.pdf", ["de"])
    cancel = threading.Event()
    seen = []

    def progress(fraction: float, desc: str = "") -> None:
        seen.append(desc)
        if "OCR page 2/300" in desc:
            cancel.set()  # as the Cancel button does, from another thread, while page 3 is next

    with Store.open(tmp_path / "store") as store:
        results = ingest_paths([first, long_scan, later], store=store, encoder=FakeEncoder(), progress=progress,
                               cancel=cancel, lang="sw")
        assert [r.status for r in results] == ["added", "cancelled", "cancelled"]
        assert results[1].reason == "cancelled while reading; nothing of this document was stored"
        assert results[2].reason == "not started: the ingest was cancelled"
        assert [d.file for d in store.documents()] == ["first.pdf"]
        assert store.doctor(repair=False).ok
    assert any("gazette-300.pdf (2/3): OCR page 1/300" in desc for desc in seen)
    assert not any("OCR page 3/300" in desc for desc in seen)


def test_a_password_protected_scan_is_refused_as_before(tmp_path):
    scan = scans.make_scan(factory.make_udhr_pdf(tmp_path / "sw.pdf", ["sw"]), tmp_path / "sw-scan.pdf", dpi=100)
    locked = factory.make_encrypted_pdf(tmp_path / "locked.pdf", scan, user_password="s3cret")
    with pytest.raises(RefusedFile, match="^encrypted PDF that needs a password"):
        read_pdf(locked, max_mb=50)


def test_a_long_text_document_is_not_rendered_at_ingest_and_one_page_is_rendered_on_demand(tmp_path):
    pages = [[f"Section {n}", f"Page {n} of the register: the parties agree on clause {n}."] for n in range(1, 201)]
    register = factory.make_pdf(tmp_path / "register.pdf", pages)
    with Store.open(tmp_path / "store") as store:
        [result] = ingest_paths([register], store=store, encoder=FakeEncoder(), lang="en")
        assert result.pages == 200 and result.ocr_pages == 0
        assert not (store.folder / "page-cache").exists()  # nothing rendered while ingesting
        rows = store.fetch_chunks(list(store.chunk_ids()))
        chunk_id = next(cid for cid, row in rows.items() if row["page"] >= 150)
        view = hit_on_page(store, chunk_id)
        assert view.page == rows[chunk_id]["page"] and view.boxes
        assert [p.name for p in (store.folder / "page-cache").iterdir()] == [
            f"{store.document(result.doc_id).sha256}-p{view.page}-110.png"]


def _covers(boxes: list[tuple[int, int, int, int]], target: tuple[float, float, float, float], slack: float = 4) -> bool:
    x0, y0, x1, y1 = target
    return any(b[0] - slack <= x0 and b[1] - slack <= y0 and x1 <= b[2] + slack and y1 <= b[3] + slack for b in boxes)


@pytest.mark.parametrize("lang, word", [("en", "conscience"), ("ar", "الكرامة"), ("am", "ማስተዋልና")])
def test_a_hit_on_its_page_highlights_its_words_from_the_text_layer_or_the_ocr(tmp_path, lang, word):
    from app.page_view import VIEW_DPI

    source = factory.make_udhr_pdf(tmp_path / f"{lang}.pdf", [lang])
    scan = scans.make_scan(source, tmp_path / f"{lang}-scan.pdf", dpi=200)
    expected = scans.word_box(source, word, dpi=VIEW_DPI)
    for pdf, source_kind in ((source, "text layer"), (scan, "OCR")):
        # one store each: a perfect OCR would make the scan a duplicate of the text PDF
        with Store.open(tmp_path / f"store-{pdf.stem}") as store:
            [result] = ingest_paths([pdf], store=store, encoder=FakeEncoder(), lang=lang)
            assert result.status == "added", result.line()
            assert store.original_file(result.doc_id).read_bytes() == pdf.read_bytes()
            rows = store.fetch_chunks(list(store.chunk_ids()))
            chunk_id = next(cid for cid, row in rows.items() if word in row["text"])
            view = hit_on_page(store, chunk_id)
            assert view.source == source_kind
            width, height = view.image.size  # A4 at VIEW_DPI (pdfium rounds up)
            assert abs(width - 595.28 * VIEW_DPI / 72) <= 1 and abs(height - 841.89 * VIEW_DPI / 72) <= 1
            assert _covers(view.boxes, expected), (source_kind, view.boxes, expected)
            # the passage starts at its article: nothing far above the word is highlighted
            assert all(box[1] > expected[1] - 200 for box in view.boxes)
            red, green, blue = view.image.getpixel((int((expected[0] + expected[2]) / 2), int(expected[1]) + 1))
            assert blue < red and blue < green  # marker yellow (or its outline) over the word
            assert (rows[chunk_id]["ocr_conf"] is not None) == (source_kind == "OCR")
            assert list((store.folder / "page-cache").iterdir())  # rendered on demand, then cached
