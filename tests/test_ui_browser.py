"""The app in a real browser (Debian's headless Chromium driven by Playwright), used as a person would.

One scenario, in order, with a screenshot of each step in ``test-output/screenshots/``: the empty
library offers the demo; two PDFs in different languages (Swahili, German) are uploaded; an English
question finds the Swahili tenancy text first; the language filter narrows to German; the
Diagnostics tab shows its chart; a non-PDF is refused with the reason; a PDF whose text contains
``<script>`` and ``<img onerror=…>`` shows that text and runs none of it. Any error in the browser
console fails the test.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``), the ``playwright`` package (its own
browsers are never downloaded) and the Noto fonts for the test PDFs. Without them the test skips,
except under CI, where it fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.app_helpers import require
from tests.ui_server import REPO, start_app

CHROMIUM = Path(os.environ.get("POLYLEX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = REPO / "test-output" / "screenshots"
TIMEOUT_MS = 120_000  # the first upload loads the encoder in the app process

SWAHILI = [
    "Sheria ya Upangaji wa Nyumba",
    "Kifungu 2",
    ("Mwenye nyumba anaweza kudai amana isiyozidi kodi ya miezi miwili. Amana itarudishwa kwa mpangaji ndani "
     "ya siku thelathini baada ya mkataba kumalizika, baada ya kutoa gharama ya uharibifu uliothibitishwa."),
    "Kifungu 3",
    "Mwenye nyumba atahakikisha kwamba nyumba inafaa kuishi na atafanya matengenezo ya dharura ndani ya siku saba.",
]
GERMAN = [
    "Datenschutzgesetz",
    "Artikel 1",
    ("Personenbezogene Daten dürfen nur mit der freiwillig erteilten Einwilligung der betroffenen Person "
     "verarbeitet werden."),
    "Artikel 2",
    ("Jede Person hat das Recht zu erfahren, welche Daten über sie gespeichert sind, und unentgeltlich eine Kopie "
     "zu erhalten."),
]
HOSTILE_MARKUP = ('<script>window.__plx_pwned = "script"</script> '
                  '<img src=x onerror="window.__plx_pwned = \'img\'"> ${7*7} {{value}}')
HOSTILE = [
    "Article 9",
    "Notice of hostile markup: " + HOSTILE_MARKUP + " must appear as plain text.",
]


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM.is_file(), f"{CHROMIUM} is absent: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed: pip install playwright==1.65.2 (never `playwright install`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    from tests.pdf_factory import (
        DEBIAN_PACKAGES,
        fonts_available,
        make_fake_pdf,
        make_pdf,
    )

    require(fonts_available(), f"Noto fonts are missing: apt-get install -y {DEBIAN_PACKAGES}")
    folder = tmp_path_factory.mktemp("ui-pdfs")
    not_pdf = folder / "minutes.txt"
    not_pdf.write_text("Meeting minutes, plain text.\n", encoding="utf-8")
    return {
        "sw": make_pdf(folder / "upangaji-sw.pdf", [SWAHILI], title="Sheria ya Upangaji wa Nyumba"),
        "de": make_pdf(folder / "datenschutz-de.pdf", [GERMAN], title="Datenschutzgesetz"),
        "hostile": make_pdf(folder / "hostile-en.pdf", [HOSTILE], title="Hostile <b>title</b> <img src=x onerror=alert(1)>"),
        "txt": not_pdf,
        "fake": make_fake_pdf(folder / "contract.pdf"),
    }


def make_trained_run(runs: Path) -> Path:
    """A run folder as ``python -m trainer train`` + ``evaluate --report`` leave it (card, report, plot);
    no weights, which listing and showing a model never read."""
    import json

    from matplotlib.figure import Figure

    folder = runs / "hybrid-test"
    report = folder / "eval" / "xquad-r"
    report.mkdir(parents=True)
    (folder / "training_card.json").write_text(json.dumps({
        "model": str(folder), "base_model": "default", "policy": "hybrid", "alpha": 0.5,
        "data": {"sets": ["mlqa-r-dev"]}, "steps": 120, "seed": 7, "hyperparameters": {"batch_size": 32, "lr": 3e-5},
        "dev": {"eval_dev_map_avg": 0.612}, "hardware": {"device": "cpu"}, "time": {"started": "2026-01-02T03:04:05",
                                                                                      "seconds": 321.0}}))
    figure = Figure(figsize=(3, 2))
    figure.add_subplot().bar(["en", "sw"], [0.8, 0.6])
    figure.savefig(report / "map_by_language.png")
    (report / "REPORT.md").write_text("# Evaluation on xquad-r\n\n| setting | mAP |\n|---|---|\n| multilingual | 0.612 |\n\n"
                                      "![mAP per language](map_by_language.png)\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui-app")
    make_trained_run(tmp / "runs")
    server = start_app(tmp)
    yield server
    server.stop()


class Page:
    """The Polylex page in one browser tab, with the steps a person takes."""

    def __init__(self, page, console_errors: list[str]) -> None:
        self.page = page
        self.console_errors = console_errors

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name).click()

    def upload(self, *paths: Path) -> str:
        """Upload files and wait for the report that names every one of them."""
        self.tab("Library")
        self.page.locator("#plx-upload input[type=file]").set_input_files([str(p) for p in paths])
        report = self.page.locator("#plx-upload-report")
        for path in paths:
            expect(report.locator("li", has_text=path.name)).to_have_count(1, timeout=TIMEOUT_MS)
        return report.inner_text()

    def choose(self, dropdown: str, option: str) -> None:
        self.page.locator(f"{dropdown} input").click()
        self.page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
        self.page.keyboard.press("Escape")

    def search(self, query: str, *, shows: str = "(all languages)") -> list:
        """Search and wait for the result list whose headline contains ``shows`` (it names the filters)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        self.tab("Search")
        self.page.locator("#plx-query textarea").fill(query)
        notes = self.page.locator("#plx-results .plx-note")
        stale = self.page.locator("#plx-results .plx-note[data-plx-stale]")
        had_list = notes.count() > 0
        if had_list:
            # Gradio 6's HTML component morphs the DOM in place (the note element survives a new answer) and
            # drops attributes the new markup lacks: a stamp on the last list disappears exactly when the new
            # one arrives. An answer identical to the last one is not applied at all, and then the wait ends
            # at its limit with the same, right, cards.
            notes.first.evaluate("note => note.setAttribute('data-plx-stale', '')")
        self.page.locator("#plx-search").click()
        if had_list:
            try:
                stale.first.wait_for(state="detached", timeout=30_000)
            except PlaywrightTimeoutError:
                pass
        expect(notes.first).to_contain_text(shows, timeout=TIMEOUT_MS)
        self.page.locator("#plx-results .plx-card").first.wait_for(timeout=TIMEOUT_MS)
        return self.page.locator("#plx-results .plx-card").all()


@pytest.fixture(scope="module")
def ui(browser, app):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.set_default_timeout(30_000)
    page.goto(app.url)
    page.locator("#plx-status").get_by_text("Library:").wait_for()
    yield Page(page, errors)
    context.close()


def test_empty_library_offers_the_demo(ui):
    demo_box = ui.page.locator("#plx-demo-box")
    demo_box.wait_for(state="visible")
    assert "DEMO" in demo_box.inner_text()
    ui.shot("01-empty-library")
    assert ui.console_errors == []


def test_upload_two_languages(ui, pdfs):
    report = ui.upload(pdfs["sw"], pdfs["de"])
    assert report.count("added") >= 2, report
    assert "upangaji-sw.pdf" in report
    assert "datenschutz-de.pdf" in report
    assert "Swahili (sw)" in report
    assert "German (de)" in report
    expect(ui.page.locator("#plx-documents")).to_contain_text("datenschutz-de.pdf", timeout=TIMEOUT_MS)
    ui.page.locator("#plx-lang-chart").scroll_into_view_if_needed()
    ui.shot("02-library-two-languages")
    assert not ui.page.locator("#plx-demo-box").is_visible(), "the demo offer stays after documents were added"
    assert ui.console_errors == []


def test_search_in_a_third_language_finds_the_right_document_first(ui):
    cards = ui.search("When must the landlord return the security deposit to the tenant?")
    assert cards[0].get_attribute("data-lang") == "sw"
    assert "Sheria ya Upangaji wa Nyumba" in cards[0].inner_text()
    assert "English (en)" in ui.page.locator("#plx-query-lang").inner_text()
    ui.shot("03-search-english-finds-swahili")
    assert ui.console_errors == []


def test_language_filter(ui):
    ui.choose("#plx-lang-filter", "German (de)")
    cards = ui.search("When must the landlord return the security deposit to the tenant?",
                      shows="only languages: German (de)")
    assert cards
    assert {card.get_attribute("data-lang") for card in cards} == {"de"}
    ui.shot("04-language-filter-german")
    ui.page.locator("#plx-lang-filter").get_by_title("Clear").click()  # back to all languages
    assert ui.console_errors == []


def test_diagnostics_show_the_chart(ui):
    ui.tab("Diagnostics")
    plot = ui.page.locator("#plx-shares-plot img").first
    plot.wait_for(timeout=TIMEOUT_MS)
    assert plot.is_visible()
    text = ui.page.locator("#plx-shares-text").inner_text()
    assert "share" in text.lower()  # the chart's one-sentence explanation is shown with it
    ui.shot("05-diagnostics")
    assert ui.console_errors == []


def test_non_pdf_is_refused_with_the_reason(ui, pdfs):
    report = ui.upload(pdfs["txt"], pdfs["fake"])
    assert report.count("refused") >= 2, report
    assert "minutes.txt" in report
    assert "contract.pdf" in report
    assert "not a PDF" in report
    ui.shot("06-non-pdf-refused")
    assert ui.console_errors == []


def test_pdf_markup_is_shown_as_text_and_never_runs(ui, pdfs):
    report = ui.upload(pdfs["hostile"])
    assert "added" in report, report
    cards = ui.search("Notice of hostile markup that must appear as plain text")
    hostile = [card for card in cards if "hostile" in card.inner_text().lower()]
    assert hostile, [card.inner_text() for card in cards]
    text = hostile[0].inner_text()
    assert "<script>" in text
    assert "<img src=x onerror=" in text
    assert "${7*7}" in text
    assert "{{value}}" in text
    assert "Hostile <b>title</b>" in text  # the title, from the PDF's metadata, is text too
    assert ui.page.evaluate("window.__plx_pwned") is None
    assert ui.page.locator("#plx-results img, #plx-results script, #plx-results b").count() == 0
    ui.shot("07-markup-escaped")
    assert ui.console_errors == []


def test_correct_a_language_then_delete_the_document(ui):
    ui.tab("Library")
    ui.choose("#plx-doc-pick", "hostile-en.pdf")
    ui.choose("#plx-doc-lang", "English (en)")
    ui.page.locator("#plx-set-lang").click()
    expect(ui.page.locator("#plx-library-message")).to_contain_text("now marked as English (en)", timeout=TIMEOUT_MS)
    table = ui.page.locator("#plx-documents")  # the only English document, and the only language given by hand
    expect(table).to_contain_text("English (en)")
    expect(table).to_contain_text("given")
    ui.shot("08-language-corrected")
    assert ui.page.evaluate("window.__plx_pwned") is None  # the hostile title in table and lists stays text

    ui.page.once("dialog", lambda dialog: dialog.accept())
    ui.choose("#plx-doc-pick", "hostile-en.pdf")
    ui.page.locator("#plx-delete").click()
    expect(ui.page.locator("#plx-library-message")).to_contain_text("Deleted document", timeout=TIMEOUT_MS)
    expect(ui.page.locator("#plx-documents")).not_to_contain_text("hostile-en.pdf")
    assert ui.console_errors == []


def test_models_view_shows_the_trained_run_and_its_report(ui):
    ui.tab("Models")
    expect(ui.page.locator("#plx-models")).to_contain_text("hybrid-test", timeout=TIMEOUT_MS)
    ui.choose("#plx-model-pick", "hybrid-test")
    report = ui.page.locator("#plx-model-report")
    expect(report).to_contain_text("Evaluation on xquad-r", timeout=TIMEOUT_MS)
    expect(report.locator('img[src^="data:image/png"]')).to_be_visible()
    expect(ui.page.locator("#plx-train-command")).to_contain_text("python -m trainer train")
    if not _cuda():
        assert ui.page.get_by_role("button", name="Train on this GPU").count() == 0
    ui.shot("09-models")
    assert ui.console_errors == []


def test_the_shipped_default_model_is_named_with_its_card(ui):
    """The status line and the Models tab say the library uses base + the shipped fine-tuned adapter,
    and show that adapter's card: its figures and the sha256 it was checked against."""
    from trainer.card import read_card
    from trainer.encoder import SHIPPED_ADAPTER

    expect(ui.page.locator("#plx-status")).to_contain_text("fine-tuned adapter", timeout=TIMEOUT_MS)
    ui.tab("Models")
    table = ui.page.locator("#plx-models")
    expect(table).to_contain_text("Polylex's fine-tuned adapter", timeout=TIMEOUT_MS)
    expect(table).to_contain_text("Base: multilingual-e5-small, not fine-tuned")
    ui.choose("#plx-model-pick", "Default:")
    report = ui.page.locator("#plx-model-report")
    digest = read_card(SHIPPED_ADAPTER)["shipped"]["sha256"]["adapter_model.safetensors"]
    expect(report).to_contain_text(digest, timeout=TIMEOUT_MS)
    expect(report).to_contain_text("xquad-r (all)")
    ui.shot("10-models-default")
    assert ui.console_errors == []


_PIXEL_JS = """async ([selector, points]) => {
  const img = document.querySelector(selector);
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return points.map(([x, y]) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)));
}"""


@pytest.fixture(scope="module")
def page_pdfs(tmp_path_factory) -> dict[str, Path]:
    from tests.pdf_factory import DEBIAN_PACKAGES, fonts_available, make_udhr_pdf
    from tests.scans import make_scan

    require(fonts_available(), f"Noto fonts are missing: apt-get install -y {DEBIAN_PACKAGES}")
    folder = tmp_path_factory.mktemp("page-pdfs")
    pdfs = {lang: make_udhr_pdf(folder / f"udhr-{lang}.pdf", [lang]) for lang in ("en", "ar", "am")}
    pdfs["am-scan"] = make_scan(pdfs["am"], folder / "udhr-am-scan.pdf", dpi=200)
    return pdfs


@pytest.mark.parametrize("name, word", [("en", "conscience"), ("ar", "الكرامة"), ("am", "ማስተዋልና"),
                                        ("am-scan", "ማስተዋልና")])
def test_a_hit_opens_on_its_page_with_its_words_highlighted(ui, page_pdfs, name, word):
    """Latin, Arabic (right to left) and Ethiopic text layers, and an Ethiopic scan read by OCR: the
    page image shows a marker-yellow box where the text layer of the original PDF has the passage's word."""
    from app.ocr import tesseract_version
    from app.page_view import VIEW_DPI
    from tests.scans import word_box

    if name.endswith("scan"):
        require(tesseract_version() is not None, "Tesseract is not installed: scripts/install-system-packages.sh")
    path = page_pdfs[name]
    if name == "en":  # the first of these tests adds all four files
        report = ui.upload(*page_pdfs.values())
        assert "1 page read by OCR" in report, report
    query = "All human beings are born free and equal in dignity and rights, endowed with reason and conscience"
    shown = ui.page.locator("#plx-results .plx-card").count()
    if not (shown and ui.page.locator("#plx-query textarea").input_value() == query):
        ui.search(query)  # the cases share one search: the same query again would get the same list
    # the card of this file that holds the word (the shared list holds every file's passages)
    wanted = ui.page.locator("#plx-results .plx-card", has_text=path.name).filter(has_text=word)
    expect(wanted.first).to_be_visible(timeout=TIMEOUT_MS)
    cards = ui.page.locator("#plx-results .plx-card").all()
    # the passage of this file that holds the word (the file's other article may rank above it)
    rank = next(i for i, card in enumerate(cards, start=1)
                if path.name in card.inner_text() and word in card.inner_text())
    ui.choose("#plx-page-pick", f"{rank}. {path.name}, page 1")
    caption = ui.page.locator("#plx-page-caption")
    expect(caption).to_contain_text(f"{path.name}, page 1 of 1", timeout=TIMEOUT_MS)
    expect(caption).to_contain_text("the passage is highlighted")
    if name.endswith("scan"):
        expect(caption).to_contain_text("read by OCR with Tesseract's")
    image = ui.page.locator("#plx-page-image img")
    image.wait_for(timeout=TIMEOUT_MS)
    x0, y0, x1, y1 = word_box(page_pdfs[name.removesuffix("-scan")], word, dpi=VIEW_DPI)
    inside = [[int(x0 + (x1 - x0) * f), int(y0) + 1] for f in (0.2, 0.5, 0.8)]
    outside = [[int(x0), int(y1) + 400]]  # far below the passage: blank page
    pixels = ui.page.evaluate(_PIXEL_JS, ["#plx-page-image img", inside + outside])
    for red, green, blue in pixels[:3]:
        assert blue < red - 40 and blue < green - 40, (name, pixels)  # marker yellow over the word
    assert pixels[3] == [255, 255, 255], pixels
    ui.page.locator("#plx-page-image").scroll_into_view_if_needed()
    ui.shot(f"13-hit-on-its-page-{name}")
    download = ui.page.locator("#plx-download")
    expect(download).to_be_visible()
    with ui.page.expect_download() as info:
        download.click()
    saved = info.value.path()
    assert Path(saved).read_bytes() == path.read_bytes()  # the library's copy of the very file
    assert info.value.suggested_filename == path.name
    assert ui.console_errors == []


def test_find_a_provision_in_the_other_languages(ui, page_pdfs):
    """From a result, "Find this provision in the other languages": the best passage of another
    document in each language, with the cosine, and the Arabic and Amharic versions of the article."""
    ui.upload(*page_pdfs.values())  # already there when the tests above ran: reported as duplicates
    ui.search("All human beings are born free and equal in dignity and rights")
    cards = ui.page.locator("#plx-results .plx-card").all()
    rank = next(i for i, card in enumerate(cards, start=1) if "udhr-en.pdf" in card.inner_text())
    ui.choose("#plx-page-pick", f"{rank}. udhr-en.pdf")
    ui.page.locator("#plx-other-langs").click()
    found = ui.page.locator("#plx-other-langs-results")
    expect(found).to_contain_text("the cosine between the two passages", timeout=TIMEOUT_MS)
    text = found.inner_text()
    assert "udhr-ar.pdf" in text and ("udhr-am.pdf" in text or "udhr-am-scan.pdf" in text), text
    assert "udhr-en.pdf" not in text  # its own document is left out
    assert len(found.locator(".plx-card").all()) >= 2  # Arabic and Amharic at least (more when earlier tests ran)
    ui.shot("14-other-languages")
    assert ui.console_errors == []


def test_a_hybrid_search_still_spans_languages(ui, page_pdfs):
    """Hybrid mode with an article number: the article in several languages, not the query's alone, each
    card saying it holds the number."""
    ui.upload(*page_pdfs.values())
    ui.tab("Search")
    ui.page.get_by_text("More options: number of results").click()
    ui.page.locator("#plx-mode").get_by_text("Meaning + exact terms").click()
    cards = ui.search("Article 1")
    langs = {card.get_attribute("data-lang") for card in cards}
    assert len(langs) >= 3, langs
    assert any("matched: 1" in card.inner_text() for card in cards)  # the card says which exact term it holds
    ui.page.locator("#plx-mode").get_by_text("Only passages holding").click()
    cards = ui.search('"ማስተዋልና"', shows="holding “ማስተዋልና”")  # Amharic, in the typed PDF and its scan
    assert cards and {card.get_attribute("data-lang") for card in cards} == {"am"}
    assert all("matched: ማስተዋልና" in card.inner_text() for card in cards)
    ui.page.locator("#plx-mode").get_by_text("Meaning (dense").click()
    assert ui.console_errors == []


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


# --- the HTML the page receives, checked without a browser ------------------------------------


def test_result_card_escapes_every_pdf_field_and_marks_rtl():
    from app.search import SearchHit
    from app.ui_html import result_cards

    hit = SearchHit(chunk_id=1, doc_id=2, file='<img src=x onerror="a()">.pdf', title="<script>t()</script>",
                    page=3, page_end=4, heading='Art. 1 <b onclick="h()">', lang="ar",
                    score=0.5, text="المادة 1 <script>alert(1)</script> & ${x} `y`")
    html = result_cards([hit], query="script ALERT", mode="hybrid")
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b " not in html
    assert "&lt;script&gt;t()&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;a()&quot;&gt;.pdf" in html
    assert 'dir="rtl"' in html
    assert "pages 3–4" in html
    assert "Arabic" in html
    assert "<mark>alert</mark>" in html  # hybrid mode marks the terms it matched (an acronym), escaped like the rest
    assert "<mark>script</mark>" not in html  # an ordinary word is not a keyword term


def test_result_card_shows_the_exact_terms_a_hit_holds_and_marks_numbers_inside_unspaced_text():
    from app.search import SearchHit
    from app.ui_html import result_cards

    hit = SearchHit(chunk_id=1, doc_id=2, file="合同.pdf", title="合同", page=1, page_end=1, heading=None, lang="zh",
                    score=0.03, text="第12条 本合同自签字之日起生效。第120条", matched=("12",))
    html = result_cards([hit], query="Article 12", mode="hybrid")
    assert "matched: 12" in html
    assert "第<mark>12</mark>条" in html and "第120条" in html  # 12 inside unspaced text, not inside 120
    phrase = SearchHit(chunk_id=3, doc_id=4, file="c.pdf", title="c", page=1, page_end=1, heading=None, lang="fr",
                       score=0.03, text="La force majeure exonère", matched=("force majeure",))
    html = result_cards([phrase], query='"force majeure"', mode="hybrid")
    assert "matched: “force majeure”" in html and "<mark>force majeure</mark>" in html


def test_ingest_report_says_each_outcome_in_words():
    from app.ingest import IngestResult
    from app.ui_html import ingest_report

    html = ingest_report([
        IngestResult("/tmp/x/a.pdf", "added", doc_id=1, lang="sw", pages=2, chunks=5, languages={"sw": 1.0}),
        IngestResult("/tmp/x/b.pdf", "duplicate", "same file as document 1 (a.pdf)"),
        IngestResult("/tmp/x/<c>.txt", "refused", "not a PDF (no %PDF header)"),
    ])
    assert "1 added, 1 already in the library, 1 refused" in html
    assert "Swahili (sw)" in html
    assert "same file as document 1" in html
    assert "&lt;c&gt;.txt" in html


def test_launch_kwargs_reads_login_and_size_limit(monkeypatch):
    from app.ui import launch_kwargs

    monkeypatch.setenv("POLYLEX_AUTH", "clerk:s3cret:with-colon")
    monkeypatch.setenv("POLYLEX_MAX_MB", "20")
    kwargs = launch_kwargs()
    assert kwargs["auth"] == ("clerk", "s3cret:with-colon")
    assert kwargs["max_file_size"] == "21mb"
    monkeypatch.setenv("POLYLEX_AUTH", "no-password")
    with pytest.raises(ValueError, match="user:password"):
        launch_kwargs()


# --- a library embedded with the untuned encoder, opened after the fine-tuned default shipped ---


@pytest.fixture(scope="module")
def base_library_app(tmp_path_factory, pdfs):
    """An app whose store was filled with ``--model base`` (as every library was before the adapter shipped)."""
    import subprocess
    import sys

    tmp = tmp_path_factory.mktemp("ui-upgrade")
    done = subprocess.run(
        [sys.executable, "-m", "app", "ingest", str(pdfs["sw"]), str(pdfs["de"]), "--store", str(tmp / "store"),
         "--model", "base"], cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr
    server = start_app(tmp)
    yield server
    server.stop()


def test_a_library_embedded_with_the_base_model_is_reindexed_with_the_default(browser, base_library_app):
    """The status line names the library's (untuned) model and the configured default; choosing the
    default offers the re-index, which runs with progress and leaves the library on the default."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.set_default_timeout(30_000)
    page.goto(base_library_app.url)
    status = page.locator("#plx-status")
    expect(status).to_contain_text("Model: Base", timeout=TIMEOUT_MS)
    expect(status).to_contain_text("re-index the library with it")
    ui = Page(page, errors)
    page.get_by_role("button", name=re.compile("^More options")).click()
    ui.choose("#plx-model", "Default:")
    expect(page.locator("#plx-model-note")).to_contain_text("re-index the library with it", timeout=TIMEOUT_MS)
    ui.shot("11-upgrade-offered")
    page.get_by_role("button", name="Re-index the library with this model").click()
    expect(page.locator("#plx-results")).to_contain_text("Re-indexed", timeout=4 * TIMEOUT_MS)
    expect(status).to_contain_text("fine-tuned adapter", timeout=TIMEOUT_MS)
    expect(status).not_to_contain_text("re-index the library with it")
    cards = ui.search("When must the landlord return the security deposit to the tenant?")
    assert cards[0].get_attribute("data-lang") == "sw"
    ui.shot("12-upgraded-to-default")
    assert errors == []
    context.close()


# --- the login wall, in a browser ----------------------------------------------------------------


def test_with_a_login_set_the_browser_sees_only_the_login_form_until_it_logs_in(browser, tmp_path):
    """POLYLEX_AUTH set: a visitor gets Gradio's login form and nothing of the library (not its size,
    not a document's name); a wrong password is refused; the right one opens the app."""
    from app.ingest import ingest_paths
    from app.store import Store
    from tests.app_helpers import FakeEncoder
    from tests.pdf_factory import make_pdf

    secret = make_pdf(tmp_path / "secret-settlement.pdf", [["Article 1", "The settlement amount is 4,200,000."]])
    with Store.open(tmp_path / "store") as store:
        ingest_paths([secret], store=store, encoder=FakeEncoder(model_id="unused"))
    server = start_app(tmp_path, env={"POLYLEX_AUTH": "clerk:s3cret-Passw0rd"})
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(server.url)
        page.get_by_label("username").wait_for(timeout=TIMEOUT_MS)
        body = page.locator("body").inner_text()
        assert "secret-settlement" not in body and "Library:" not in body and "Search" not in body, body[:500]
        assert "log in with the user name and password you were given" in body
        page.get_by_label("username").fill("clerk")
        page.get_by_label("password").fill("wrong")
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_text("Incorrect Credentials")).to_be_visible(timeout=30_000)
        assert "secret-settlement" not in page.locator("body").inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "15-login-wall.png"), full_page=True)
        page.get_by_label("username").fill("clerk")  # the form was reset by the refusal
        page.get_by_label("password").fill("s3cret-Passw0rd")
        page.get_by_role("button", name="Login").click()
        expect(page.locator("#plx-status")).to_contain_text("Library:", timeout=TIMEOUT_MS)
        page.get_by_role("tab", name="Library").click()
        expect(page.locator("#plx-documents")).to_contain_text("secret-settlement.pdf", timeout=TIMEOUT_MS)
    finally:
        context.close()
        server.stop()
