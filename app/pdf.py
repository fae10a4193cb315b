"""PDF in, clean text per page out, or one clear reason why not.

Every refusal is a :class:`~app.errors.RefusedFile` whose message is one line a legal practitioner
can act on. The checks run cheapest first, and the file is read once: size, header (a PDF is
a PDF by its ``%PDF-`` header, never by its extension), end-of-file marker (truncation), then
pypdf (corruption, encryption: the empty password is tried first, as viewers do). Pages without
a text layer come back empty: :mod:`app.scan` reads them by OCR, and :func:`require_text` refuses
a document that still has no text.

Example::

    >>> doc = read_pdf("constitution.pdf", max_mb=100)
    >>> doc.title, len(doc.pages), doc.sha256[:12]
    ('Federal Constitution', 84, '3f1c0a9b2e77')
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from app.errors import RefusedFile

if TYPE_CHECKING:
    from app.ocr import OcrPage

# pypdf logs every repair it attempts on a damaged file; our refusal message says it once.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_HEADER_WINDOW = 1024  # the PDF spec lets a header sit after some leading junk
_EOF_WINDOW = 2048  # and the %%EOF marker before a little trailing junk
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u00ad\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")


@dataclass(frozen=True)
class PdfText:
    """The text of one PDF.

    ``pages[i]`` is the cleaned text of page ``i + 1`` ("" for a page without text);
    ``sha256`` is the hash of the file's bytes and ``text_sha256`` that of its text: either one
    already in the store makes the file a duplicate (a re-saved copy has new bytes, same text).
    ``ocr`` holds the pages read by OCR (page number -> :class:`app.ocr.OcrPage`), ``unread`` the
    scanned pages that could not be read, with the reason (both filled by :func:`app.scan.ocr_pdf`,
    which sets ``scanned``).
    """

    path: Path
    sha256: str
    text_sha256: str
    size: int
    title: str
    pages: list[str]
    ocr: dict[int, OcrPage] = field(default_factory=dict)
    unread: dict[int, str] = field(default_factory=dict)
    scanned: bool = False  # True once app.scan.ocr_pdf has looked at every page (nothing is read twice)

    def warnings(self) -> list[str]:
        """One line per problem worth telling the user: unread pages, low OCR confidence, OCR notes."""
        lines = []
        if self.unread:
            reasons: dict[str, list[int]] = {}
            for number, reason in sorted(self.unread.items()):
                reasons.setdefault(reason, []).append(number)
            for reason, numbers in reasons.items():
                lines.append(f"{len(numbers)} page(s) not read ({_page_list(numbers)}): {reason}")
        notes: dict[str, list[int]] = {}
        for number, page in sorted(self.ocr.items()):
            if page.note:
                notes.setdefault(page.note, []).append(number)
        lines += [f"OCR, page(s) {_page_list(numbers)}: {note}" for note, numbers in notes.items()]
        return lines


def _page_list(numbers: list[int], shown: int = 12) -> str:
    text = ", ".join(str(n) for n in numbers[:shown])
    return text + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")


def require_text(pdf: PdfText) -> None:
    """Refuse a document in which no page has text, after OCR, saying why."""
    if any(_has_letters(page) for page in pdf.pages):
        return
    why = next(iter(pdf.unread.values()), "")
    if why:
        raise RefusedFile(f"no text in {len(pdf.pages)} page(s) and OCR could not read them: {why}")
    raise RefusedFile(f"no extractable text in {len(pdf.pages)} page(s), and no images to read by OCR "
                      "(blank pages, or text drawn as vector shapes)")


def find_pdfs(paths: list[str | Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and folders into the files to read, in the order given.

    Returns ``(files, refused)``: a folder contributes its ``*.pdf`` files (any case, subfolders
    included, sorted); a folder without any, or a path that does not exist, is refused with a
    reason. A file named explicitly is kept whatever its extension: its header decides later.
    """
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
            if not found:
                refused.append((path, "folder has no PDF files (looked for *.pdf, subfolders included)"))
            candidates = found
        elif path.is_file():
            candidates = [path]
        else:
            refused.append((path, "no such file or folder"))
            candidates = []
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    return files, refused


def clean_text(text: str) -> str:
    """Normalise extracted text: NFKC (Arabic presentation forms, ligatures, full-width forms),
    no control or zero-width characters, single spaces, no trailing blanks."""
    text = unicodedata.normalize("NFKC", text.replace("\x00", ""))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def read_pdf(path: str | Path, *, max_mb: float, max_pages: int | None = None,
             max_text_mb: float | None = None) -> PdfText:
    """Read one PDF's text page by page.

    Args:
        path: the file.
        max_mb: the largest size accepted, in MiB (``settings.max_mb``, ``POLYLEX_MAX_MB``).
        max_pages: the most pages accepted (``settings.max_pages``, ``POLYLEX_MAX_PAGES``); None: any.
        max_text_mb: the most text accepted, in MiB of UTF-8 (``settings.max_text_mb``,
            ``POLYLEX_MAX_TEXT_MB``); reading stops at the page that passes it. None: any.

    Raises:
        RefusedFile: with a one-line reason when the file is empty, too big, not a PDF,
            truncated, corrupt, encrypted with a password, or has no extractable text.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise RefusedFile("empty file (0 bytes)")
    if size > max_mb * 1024 * 1024:
        raise RefusedFile(f"file is {size / 1024 / 1024:.1f} MB, over the {max_mb:g} MB limit (POLYLEX_MAX_MB)")
    data = path.read_bytes()
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        start = data[:16].decode("ascii", "replace").strip() or "binary data"
        raise RefusedFile(f"not a PDF (no %PDF header; it starts with {start!r}), whatever its extension says")
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise RefusedFile("truncated PDF (no end-of-file marker): the file is incomplete, copy or download it again")

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:
                raise RefusedFile(f"encrypted PDF that cannot be opened here ({exc})") from exc
            if opened == PasswordType.NOT_DECRYPTED:
                raise RefusedFile("encrypted PDF that needs a password: save an unprotected copy "
                                  "(e.g. qpdf --decrypt) and ingest that")
        if len(reader.pages) == 0:
            raise RefusedFile("corrupt PDF: it has no readable pages")
        if max_pages is not None and len(reader.pages) > max_pages:
            raise RefusedFile(f"{len(reader.pages):,} pages, over the {max_pages:,}-page limit (POLYLEX_MAX_PAGES): "
                              "split the file, or raise the limit")
        pages, text_bytes = [], 0
        for page in reader.pages:
            pages.append(clean_text(page.extract_text() or ""))
            text_bytes += len(pages[-1].encode("utf-8"))
            if max_text_mb is not None and text_bytes > max_text_mb * 2**20:
                raise RefusedFile(f"more than {max_text_mb:g} MiB of text (by page {len(pages):,}), over the text "
                                  "limit (POLYLEX_MAX_TEXT_MB): split the file, or raise the limit")
        title = _title(reader, pages, path)
    except RefusedFile:
        raise
    except FileNotDecryptedError as exc:
        raise RefusedFile("encrypted PDF that needs a password: save an unprotected copy and ingest that") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            AssertionError, OSError) as exc:
        # pypdf signals damage through many exception types; none of them is the user's to debug.
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise RefusedFile(f"corrupt PDF (pypdf: {detail})") from exc

    return PdfText(path=path, sha256=hashlib.sha256(data).hexdigest(), text_sha256=text_hash(pages), size=size,
                   title=title, pages=pages)


def text_hash(pages: list[str]) -> str:
    """The sha256 of a document's text (pages joined by form feeds): the key of "same text as"."""
    return hashlib.sha256("\f".join(pages).encode("utf-8")).hexdigest()


def _title(reader: PdfReader, pages: list[str], path: Path) -> str:
    """The metadata title when it is a real one, else the first line of text, else the file name."""
    try:
        meta = (reader.metadata.title or "") if reader.metadata else ""
    except Exception:  # damaged info dictionaries are common and never worth refusing a file for
        meta = ""
    meta = clean_text(str(meta)).removeprefix("Microsoft Word - ").strip()
    if meta and meta.lower() not in {"untitled", "untitled document", "document"}:
        return meta[:200]
    for page in pages:
        for line in page.splitlines():
            if _has_letters(line):
                return line[:120]
    return path.stem
