"""A hit on its page: the page rendered from the stored PDF with the hit's words highlighted.

The words of a page and their boxes come from the PDF's text layer (pdfium's character boxes) or,
for a page read by OCR, from Tesseract's word boxes stored at ingest. The hit's words are found
among them by their letters (accents, vowel marks, case and punctuation ignored; scripts written
without spaces letter by letter), in the window of the page that holds the most of them, so the
order in which a producer wrote right-to-left text does not matter. The highlighted words are
merged into one box per line.

Pages are rendered on demand, never at ingest, by a worker process with the reader's limits
(``app.read_worker``: a hostile page costs its view, never the app), and cached as PNG files beside
the store (a 1,000-page document costs nothing until one of its pages is opened).

Example::

    >>> view = hit_on_page(store, chunk_id=412)
    >>> view.image.size, view.boxes[0]
    ((1275, 1650), (150, 212, 1108, 236))
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from PIL import Image, ImageDraw

from app.errors import AppError
from app.page_render import PageError
from app.store_protocol import OcrPageRecord, StoreBackend

VIEW_DPI = 110
"""Resolution pages are shown at: a whole A4 page readable on a laptop screen (910 x 1287 pixels)."""
CACHE_FOLDER = "page-cache"
HIGHLIGHT = (255, 214, 0, 90)  # translucent yellow, as a marker pen
OUTLINE = (230, 120, 0, 255)
_NO_SPACE_SCRIPTS = {"Han", "Kana", "Thai", "Lao", "Khmer", "Myanmar"}
_GAP = 6  # aligned words further apart than this belong to different runs


class PageViewError(AppError, ValueError):
    """The page of a hit cannot be shown (no stored PDF, a page that cannot be rendered)."""


@dataclass(frozen=True)
class PageWord:
    """A word on a page; ``box`` is (x0, y0, x1, y1) in fractions of the page, origin top left."""

    text: str
    box: tuple[float, float, float, float]
    line: int


@dataclass
class PageView:
    """What the app shows: the page image with the highlight drawn, the highlight boxes in the image's
    pixels, where the words came from (``text layer`` or ``OCR``) and a caption."""

    image: Image.Image
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    source: str = "text layer"
    caption: str = ""
    page: int = 1


def _key(text: str) -> str:
    """A word reduced to its letters and digits: decomposed, marks and punctuation dropped, casefolded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in "LN").casefold()


def _tokens(text: str) -> list[str]:
    """Match keys of a text's words; letters of scripts written without spaces count one by one."""
    from app.langid.scripts import dominant_script

    keys: list[str] = []
    for word in text.split():
        key = _key(word)
        if not key:
            continue
        if dominant_script(key) in _NO_SPACE_SCRIPTS:
            keys.extend(key)
        else:
            keys.append(key)
    return keys


def _split_word(word: PageWord) -> list[PageWord]:
    """A word of a no-space script, split into letters with the box shared out evenly."""
    from app.langid.scripts import dominant_script

    key = _key(word.text)
    if len(key) <= 1 or dominant_script(key) not in _NO_SPACE_SCRIPTS:
        return [word]
    x0, y0, x1, y1 = word.box
    step = (x1 - x0) / len(key)
    return [PageWord(ch, (x0 + i * step, y0, x0 + (i + 1) * step, y1), word.line) for i, ch in enumerate(key)]


def hit_words(words: list[PageWord], text: str) -> list[PageWord]:
    """The words of the page that belong to ``text`` (a chunk).

    The page's words are aligned with the chunk's in order (``difflib``); the largest run of aligned
    words, with the unaligned ones between them, is the hit. Where the alignment finds little (a
    producer that wrote right-to-left text in visual order), the window of the page holding the
    most of the chunk's words is the hit instead.
    """
    pieces = [piece for word in words for piece in _split_word(word) if _key(piece.text)]
    tokens = _tokens(text)
    if not pieces or not tokens:
        return []
    keys = [_key(p.text) for p in pieces]
    aligned = SequenceMatcher(None, keys, tokens, autojunk=False).get_matching_blocks()
    matched = [i for a, _, size in aligned for i in range(a, a + size)]
    if len(matched) >= max(2, 0.3 * len(tokens)):
        clusters: list[list[int]] = []
        for i in sorted(matched):
            if clusters and i - clusters[-1][-1] <= _GAP:
                clusters[-1].append(i)
            else:
                clusters.append([i])
        best = max(clusters, key=len)
        return pieces[best[0]:best[-1] + 1]
    wanted = set(tokens)
    marks = [k in wanted or k[::-1] in wanted for k in keys]
    span = min(len(pieces), len(tokens))
    best_start, running = 0, sum(marks[:span])
    best = running
    for start in range(1, len(pieces) - span + 1):
        running += marks[start + span - 1] - marks[start - 1]
        if running > best:
            best_start, best = start, running
    window = zip(pieces[best_start:best_start + span], marks[best_start:best_start + span])
    return [p for p, marked in window if marked] if best > 0 else []


def line_boxes(words: list[PageWord], size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """One box per line around the given words, in pixels of an image of ``size``."""
    width, height = size
    lines: dict[int, list[float]] = {}
    for word in words:
        x0, y0, x1, y1 = word.box
        box = lines.get(word.line)
        lines[word.line] = [x0, y0, x1, y1] if box is None else [min(box[0], x0), min(box[1], y0),
                                                                 max(box[2], x1), max(box[3], y1)]
    pad = 2
    return [(max(0, int(x0 * width) - pad), max(0, int(y0 * height) - pad), min(width, int(x1 * width) + pad),
             min(height, int(y1 * height) + pad)) for x0, y0, x1, y1 in lines.values()]


def _page_from_worker(store: StoreBackend, pdf: Path, *, page: int, dpi: int,
                      words: bool) -> tuple[Image.Image, list[PageWord] | None]:
    """The page rendered (and its text layer's words) by a limited worker process (app.read_worker):
    a page a hostile file makes pdfium hang or allocate on costs that view, never the app."""
    import io

    from app.errors import RefusedFile
    from app.read_worker import page_isolated
    from corpora.settings import get_settings

    try:
        png, found = page_isolated(pdf, page=page, dpi=dpi, words=words, settings=get_settings())
    except RefusedFile as exc:
        raise PageError(str(exc)) from exc
    with Image.open(io.BytesIO(png)) as image:
        rendered = image.convert("RGB")
    return rendered, None if found is None else [PageWord(text, tuple(box), line) for text, box, line in found]


def _cached(store: StoreBackend, sha256: str, page: int, dpi: int) -> tuple[Path, Image.Image | None]:
    path = Path(store.folder) / CACHE_FOLDER / f"{sha256}-p{page}-{dpi}.png"
    if path.is_file():
        try:
            with Image.open(path) as cached:
                return path, cached.convert("RGB")
        except (OSError, ValueError):  # a damaged cache file: render the page again
            path.unlink(missing_ok=True)
    return path, None


def _keep(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".partial.png", delete=False) as partial:
        image.save(partial, format="PNG")
    os.replace(partial.name, path)


def page_image_and_words(store: StoreBackend, doc_id: int, sha256: str, page: int, pdf: Path,
                         dpi: int = VIEW_DPI) -> tuple[Image.Image, list[PageWord], OcrPageRecord | None]:
    """A stored page (from the cache, else rendered by a worker and cached), its words, and its OCR
    record (None for a page whose words come from its text layer, read by the worker)."""
    record = store.ocr_page(doc_id, page)
    cache_path, image = _cached(store, sha256, page, dpi)
    words: list[PageWord] | None = None
    if record is not None:
        words = [PageWord(w[0], (w[1], w[2], w[3], w[4]), int(w[6])) for w in record.words]
    if image is None or words is None:
        image_new, words_new = _page_from_worker(store, pdf, page=page, dpi=dpi, words=words is None)
        if image is None:
            image = image_new
            _keep(cache_path, image)
        words = words if words is not None else words_new or []
    return image, words, record


def hit_on_page(store: StoreBackend, chunk_id: int, *, dpi: int = VIEW_DPI) -> PageView:
    """The first page of a chunk with the chunk's words highlighted.

    Raises:
        PageViewError: the chunk is gone, its PDF is not stored, or the page cannot be rendered.
    """
    row = store.fetch_chunks([chunk_id]).get(chunk_id)
    if row is None:
        raise PageViewError(f"passage {chunk_id} is no longer in the library")
    doc = store.document(row["doc_id"])
    pdf = store.original_file(row["doc_id"])
    if doc is None or pdf is None:
        raise PageViewError(f"the PDF of “{row['file']}” is not stored in the library (added before pages "
                            "were kept): delete it and add it again to see its pages")
    page = int(row["page"])
    try:
        image, words, record = page_image_and_words(store, row["doc_id"], doc.sha256, page, pdf, dpi)
    except PageError as exc:
        raise PageViewError(f"page {page} of “{row['file']}” cannot be shown: {exc}") from exc
    boxes = line_boxes(hit_words(words, row["text"]), image.size)
    shown = image.convert("RGBA")
    overlay = Image.new("RGBA", shown.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        draw.rectangle(box, fill=HIGHLIGHT, outline=OUTLINE, width=2)
    shown = Image.alpha_composite(shown, overlay).convert("RGB")
    ocr = (f", read by OCR with Tesseract's {record.models} model ({record.confidence:.0f}/100 confidence)"
           if record is not None else "")
    caption = (f"{row['file']}, page {page} of {doc.pages}{ocr}"
               + ("" if boxes else ": the passage's words were not found on the page image"))
    return PageView(image=shown, boxes=boxes, source="OCR" if record is not None else "text layer", caption=caption,
                    page=page)
