"""PDF pages as images (pypdfium2: Apache-2.0/BSD, not an AGPL library), with the checks that keep a
hostile file from exhausting memory.

Rendering a page decodes every image on it at full size, so before rendering the images' declared
sizes are read from their dictionaries (nothing is decoded): one over ``max_image_mpx`` megapixels
(a 20,000 x 20,000 image, or a decompression bomb that declares one) leaves the page unrendered
with that reason. The page itself is rendered at the asked resolution, lowered so that the bitmap
stays under :data:`MAX_RENDER_PIXELS` (a poster-sized page at 300 dpi would not).

Example::

    >>> with open_pdf("gazette.pdf") as pdf:
    ...     image = render_page(pdf, 0, dpi=300, max_image_mpx=150)
    >>> image.size
    (2481, 3508)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from app.errors import AppError

MAX_RENDER_PIXELS = 40_000_000
"""The largest bitmap a page is rendered to (an A4 page at 300 dpi is 8.7 million pixels)."""


class PageError(AppError, ValueError):
    """One page cannot be rendered (an image too big to decode, a damaged page); the reason is for people."""


@contextmanager
def open_pdf(path: str | Path, password: str | None = None) -> Iterator[object]:
    """The document opened by pypdfium2, closed on exit."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as exc:
        raise PageError(f"pdfium cannot open the file: {exc}") from exc
    try:
        yield document
    finally:
        document.close()


def _images(page: object) -> Iterator[object]:
    import pypdfium2 as pdfium
    from pypdfium2 import raw

    try:
        # every level of nested forms: an image hidden deeper must not escape the size check
        yield from page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=64)
    except pdfium.PdfiumError as exc:
        raise PageError(f"the page's objects cannot be read ({exc})") from exc


def load_page(document: object, index: int) -> object:
    """Page ``index`` (0-based) of an open document; a page pdfium cannot load is a :class:`PageError`."""
    import pypdfium2 as pdfium

    try:
        return document[index]
    except pdfium.PdfiumError as exc:
        raise PageError(f"page {index + 1} cannot be loaded ({exc})") from exc


def image_pixels(page: object) -> list[tuple[int, int]]:
    """The declared (width, height) of every image on the page, forms included; nothing is decoded."""
    sizes = []
    for image in _images(page):
        try:
            sizes.append(tuple(int(v) for v in image.get_px_size()))
        except Exception:  # an image whose dictionary cannot be read has no size to check
            continue
    return sizes


def check_images(page: object, *, max_image_mpx: float) -> None:
    """Raise :class:`PageError` if an image on the page is larger than ``max_image_mpx`` megapixels."""
    for width, height in image_pixels(page):
        if width * height > max_image_mpx * 1e6:
            raise PageError(f"an image of {width:,} x {height:,} pixels ({width * height / 1e6:,.0f} megapixels) is "
                            f"over the {max_image_mpx:g}-megapixel limit (POLYLEX_MAX_IMAGE_MPX); it is not decoded")


def has_images(document: object, index: int) -> bool:
    """Whether page ``index`` holds an image (False for a page that cannot be loaded)."""
    try:
        page = load_page(document, index)
    except PageError:
        return False
    try:
        return next(_images(page), None) is not None
    except PageError:
        return False
    finally:
        page.close()


def render_page(document: object, index: int, *, dpi: float, max_image_mpx: float) -> Image.Image:
    """Page ``index`` (0-based) as an RGB image at ``dpi`` (less for a huge page), after :func:`check_images`."""
    page = load_page(document, index)
    try:
        check_images(page, max_image_mpx=max_image_mpx)
        width, height = page.get_size()  # points, 1/72 inch
        scale = dpi / 72
        if width * height * scale * scale > MAX_RENDER_PIXELS:
            scale = (MAX_RENDER_PIXELS / (width * height)) ** 0.5
        try:
            return page.render(scale=scale).to_pil().convert("RGB")
        except Exception as exc:  # pdfium reports damage in its own words; the page is what failed
            raise PageError(f"the page cannot be rendered ({type(exc).__name__}: {exc})") from exc
    finally:
        page.close()


def text_layer_words(document: object, index: int) -> list[tuple[str, tuple[float, float, float, float], int]]:
    """The words of page ``index`` (0-based) from its text layer, with pdfium's character boxes:
    ``(text, (x0, y0, x1, y1), line)``, the box in fractions of the page, origin top left."""
    import pypdfium2 as pdfium

    page = load_page(document, index)
    try:
        textpage = page.get_textpage()
    except pdfium.PdfiumError as exc:
        page.close()
        raise PageError(f"the page's text cannot be read ({exc})") from exc
    try:
        left, bottom, right, top = page.get_bbox()
        width, height = (right - left) or 1, (top - bottom) or 1
        rotation = page.get_rotation()
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count)
        per_char = len(text) == count
        words: list[tuple[str, tuple[float, float, float, float], int]] = []
        current, box, line, last_bottom = "", None, 0, None
        for i in range(count):
            ch = text[i] if per_char else textpage.get_text_range(i, 1)
            if ch.isspace() or not ch:
                if current and box:
                    words.append((current, turn_box(box, rotation), line))
                current, box = "", None
                if ch in "\r\n":
                    line += 1
                continue
            left_, bottom_, right_, top_ = textpage.get_charbox(i)
            if right_ <= left_ or top_ <= bottom_:
                current += ch
                continue
            char_box = ((left_ - left) / width, (top - top_) / height,
                        (right_ - left) / width, (top - bottom_) / height)
            if last_bottom is not None and abs(char_box[3] - last_bottom) > 0.02 and not current:
                line += 1
            last_bottom = char_box[3]
            box = char_box if box is None else (min(box[0], char_box[0]), min(box[1], char_box[1]),
                                                max(box[2], char_box[2]), max(box[3], char_box[3]))
            current += ch
        if current and box:
            words.append((current, turn_box(box, rotation), line))
        return words
    finally:
        textpage.close()
        page.close()


def turn_box(box: tuple[float, float, float, float], rotation: int) -> tuple[float, float, float, float]:
    """A box in fractions of a page (origin top left), on that page turned ``rotation`` degrees
    clockwise (``/Rotate``); ``turn_box(b, 360 - r)`` turns it back."""
    rotation %= 360
    x0, y0, x1, y1 = box
    if rotation == 90:
        points = [(1 - y0, x0), (1 - y1, x1)]
    elif rotation == 180:
        points = [(1 - x0, 1 - y0), (1 - x1, 1 - y1)]
    elif rotation == 270:
        points = [(y0, 1 - x0), (y1, 1 - x1)]
    else:
        return box
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))
