"""The pages of a PDF that have no usable text layer, read by OCR; page by page, with progress,
a time limit per page and a way to cancel between pages.

A page needs OCR when its text layer has fewer than :data:`MIN_LETTERS` letters and it holds an
image (a page with neither is blank and stays empty). Mixed documents work page by page: the
pages with text keep it, the others are read. A page OCR cannot read (an image over the size
limit, the time limit, a Tesseract failure) is listed in ``PdfText.unread`` with its reason and
the rest of the document goes on; only a document with no text at all is refused.

The language of the scanned pages is the user's choice when given; else the language of the
pages that have text; else, after the first scanned page, the language of what it read (so the
following pages get their language's model: Amharic's instead of the Ethiopic script's).

Example::

    >>> pdf = read_pdf("gazette-1998.pdf", max_mb=100)
    >>> pdf = ocr_pdf(pdf, settings=get_settings(), on_page=lambda done, total: print(done, total))
    >>> sorted(pdf.ocr), pdf.unread
    ([1, 2, 3], {})
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from contextlib import ExitStack

from app.errors import AppError
from app.ocr import LANGUAGE_MODELS, OcrError, OcrPage, installed_models, ocr_image, tesseract_version
from app.page_render import PageError, has_images, open_pdf, render_page
from app.pdf import PdfText, clean_text, text_hash
from corpora.settings import Settings

MIN_LETTERS = 20
"""A page with fewer letters in its text layer (a stamp, a page number) is treated as a scan."""


class Cancelled(AppError, RuntimeError):
    """The user cancelled the ingest; documents finished before it are kept, the current one is not written."""


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def pages_to_read(pdf: PdfText) -> list[int]:
    """1-based numbers of the pages without a usable text layer that hold an image (and have not
    been tried already: ``pdf.ocr`` and ``pdf.unread`` are not read again)."""
    thin = [i for i, text in enumerate(pdf.pages)
            if _letters(text) < MIN_LETTERS and i + 1 not in pdf.ocr and i + 1 not in pdf.unread]
    if not thin:
        return []
    try:
        with open_pdf(pdf.path) as document:
            return [i + 1 for i in thin if has_images(document, i)]
    except PageError:
        return []


def _known_language(pdf: PdfText, lang: str | None) -> str | None:
    if lang:
        return lang
    text = "\n".join(page for page in pdf.pages if _letters(page) >= MIN_LETTERS)
    if _letters(text) < 200:
        return None
    from app.langid import detect

    found = detect(text[:5000]).lang
    return None if found == "und" else found


def ocr_pdf(pdf: PdfText, *, settings: Settings, lang: str | None = None,
            on_page: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None) -> PdfText:
    """``pdf`` with its scanned pages read by OCR (``pdf.ocr``) or listed as unread (``pdf.unread``).

    Args:
        pdf: from :func:`app.pdf.read_pdf`.
        settings: ``ocr`` (``auto``/``off``), ``ocr_dpi``, ``ocr_timeout``, ``max_image_mpx``.
        lang: the user's language for the document, if chosen.
        on_page: ``on_page(done, total)`` after each page (progress bars).
        cancel: set it (from another thread) to stop between pages.

    Raises:
        Cancelled: ``cancel`` was set; nothing of this document is returned or written.
    """
    if pdf.scanned:
        return pdf
    todo = pages_to_read(pdf)
    if not todo:
        return dataclasses.replace(pdf, scanned=True)
    unread: dict[int, str] = dict(pdf.unread)
    if settings.ocr == "off":
        reason = "scanned page, not read: OCR is off (POLYLEX_OCR=off)"
        return dataclasses.replace(pdf, unread=unread | {n: reason for n in todo}, scanned=True)
    if tesseract_version() is None:
        reason = "scanned page, not read: Tesseract is not installed (scripts/install-system-packages.sh)"
        return dataclasses.replace(pdf, unread=unread | {n: reason for n in todo}, scanned=True)
    installed = installed_models()
    known = _known_language(pdf, lang)
    pages, read = list(pdf.pages), dict(pdf.ocr)
    with ExitStack() as stack:
        try:
            document = stack.enter_context(open_pdf(pdf.path))
        except PageError as exc:
            reason = f"scanned page, not read: {exc}"
            return dataclasses.replace(pdf, unread=unread | {n: reason for n in todo}, scanned=True)
        for done, number in enumerate(todo, start=1):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"cancelled at page {number} of {len(pdf.pages)}; nothing of this document was stored")
            try:
                image = render_page(document, number - 1, dpi=settings.ocr_dpi, max_image_mpx=settings.max_image_mpx)
                page = ocr_image(image, lang=known, timeout=settings.ocr_timeout, installed=installed)
            except (PageError, OcrError) as exc:
                unread[number] = str(exc)
            else:
                if _letters(page.text) == 0:
                    unread[number] = "OCR found no text on this page"
                else:
                    pages[number - 1] = clean_text(page.text)
                    read[number] = page
                    known = known or _language_with_model(page)
            if on_page:
                on_page(done, len(todo))
    return dataclasses.replace(pdf, pages=pages, ocr=read, unread=unread, text_sha256=text_hash(pages), scanned=True)


def _language_with_model(page: OcrPage) -> str | None:
    """The language of a page read with a script model, if Tesseract has that language's own model."""
    if page.models in LANGUAGE_MODELS.values() or _letters(page.text) < 200:
        return None
    from app.langid import detect

    found = detect(page.text[:5000]).lang
    return found if found in LANGUAGE_MODELS and LANGUAGE_MODELS[found] in installed_models() else None
