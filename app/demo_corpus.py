"""The demo library: short fictional laws, written for Polylex, turned into PDFs at first start.

The texts live in ``app/demo_texts/<set>.<lang>.txt``: first line the title (starting ``DEMO –``),
second line a note in the document's own language saying it is a fictional demonstration text,
then paragraphs separated by blank lines, each article opening with its heading on a line of its
own ("Article 2", "Kifungu 2", "አንቀጽ 2"). Files with the same ``<set>`` are translations of one
another; that is what the rank-distance diagnostic needs. None of them is real law.

Two sets, eleven documents, ten languages, four of them low-resource (Swahili, Amharic, Hausa,
Nepali) and one right-to-left (Arabic). PDFs are written with fpdf2 and the Noto fonts of the
Debian package ``fonts-noto-core`` (``packages.txt`` on a Space); Arabic is shaped with HarfBuzz
(``uharfbuzz``) because an unshaped Arabic PDF reads back reversed. A language whose font or
shaper is missing is left out, and :func:`write_demo_pdfs` says which.

Example::

    >>> [d.name for d in demo_documents()][:2]
    ['data-protection.de', 'data-protection.en']
    >>> pdfs, skipped = write_demo_pdfs(tmp_path)
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.store_protocol import StoreBackend
from trainer.encoder import Encoder

TEXTS = Path(__file__).parent / "demo_texts"
FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"),
             Path("/usr/share/fonts"))
DEBIAN_FONTS = "fonts-noto-core"

# script marker in Unicode character names -> (font family, file name, needs shaping)
_SCRIPT_FONTS = {
    "ARABIC": ("NotoNaskhArabic", "NotoNaskhArabic-Regular.ttf", True),
    "DEVANAGARI": ("NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf", False),
    "ETHIOPIC": ("NotoSansEthiopic", "NotoSansEthiopic-Regular.ttf", False),
}
_BASE_FONT = ("NotoSans", "NotoSans-Regular.ttf", False)  # Latin, Cyrillic, Greek


@dataclass(frozen=True)
class DemoDocument:
    """One demo text: ``translation_set`` groups the documents that are translations of each other."""

    translation_set: str
    lang: str
    title: str
    paragraphs: list[str]

    @property
    def name(self) -> str:
        return f"{self.translation_set}.{self.lang}"


def demo_documents() -> list[DemoDocument]:
    """Every demo text, sorted by file name."""
    documents = []
    for path in sorted(TEXTS.glob("*.txt")):
        translation_set, lang = path.stem.rsplit(".", 1)
        lines = path.read_text(encoding="utf-8").strip().split("\n")
        title = lines[0].strip()
        paragraphs = [p.strip() for p in "\n".join(lines[1:]).split("\n\n") if p.strip()]
        documents.append(DemoDocument(translation_set, lang, title, paragraphs))
    return documents


def _font_file(name: str) -> Path | None:
    for folder in FONT_DIRS:
        direct = folder / name
        if direct.is_file():
            return direct
    found = sorted(Path("/usr/share/fonts").rglob(name)) if Path("/usr/share/fonts").is_dir() else []
    return found[0] if found else None


def _script_font(text: str) -> tuple[str, str, bool]:
    """(family, file name, needs shaping) for a paragraph: its first letter outside basic Latin
    decides, so "DEMO – قانون" is set in the Arabic font (NotoSans covers the rest as fallback)."""
    for ch in text:
        if ch.isalpha() and not ch.isascii():
            name = unicodedata.name(ch, "")
            for marker, font in _SCRIPT_FONTS.items():
                if marker in name:
                    return font
    return _BASE_FONT


def _have_shaping() -> bool:
    try:
        import uharfbuzz  # noqa: F401  (fpdf2's text-shaping engine)
    except ImportError:
        return False
    return True


def missing_requirement(document: DemoDocument) -> str | None:
    """Why ``document`` cannot be written here (a font or the shaper is missing), or None."""
    base_family, base_file, _ = _BASE_FONT
    family, file_name, shaped = _script_font(document.paragraphs[-1])
    for needed in {base_file, file_name}:
        if _font_file(needed) is None:
            return f"font {needed} missing (apt-get install {DEBIAN_FONTS})"
    if shaped and not _have_shaping():
        return "right-to-left text needs HarfBuzz shaping (pip install uharfbuzz)"
    return None


def write_pdf(document: DemoDocument, path: Path) -> Path:
    """Write one demo document as a one-page-per-article-group A4 PDF with its title as metadata."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(document.title)
    pdf.set_subject("DEMO document written for Polylex: fictional text, not law")
    families = {}
    for paragraph in [document.title, *document.paragraphs]:
        family, file_name, shaped = _script_font(paragraph)
        if family not in families:
            pdf.add_font(family, fname=str(_font_file(file_name)))
            families[family] = shaped
    if _BASE_FONT[0] not in families:  # digits and Latin words inside other scripts
        pdf.add_font(_BASE_FONT[0], fname=str(_font_file(_BASE_FONT[1])))
    pdf.set_fallback_fonts([_BASE_FONT[0]], exact_match=False)

    pdf.add_page()
    for index, paragraph in enumerate([document.title, *document.paragraphs]):
        family, _, shaped = _script_font(paragraph)
        size = 15 if index == 0 else 11
        pdf.set_font(family, size=size)
        pdf.set_text_shaping(shaped)
        pdf.multi_cell(0, size * 0.55, paragraph, align="R" if shaped else "L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(size * 0.45)
    pdf.output(str(path))
    return path


def write_demo_pdfs(folder: str | Path) -> tuple[list[tuple[DemoDocument, Path]], list[tuple[DemoDocument, str]]]:
    """Write every demo document that can be written here into ``folder``.

    Returns ``(written, skipped)``: ``written`` pairs each document with its PDF, ``skipped`` pairs
    the others with the reason (a missing font or shaper).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for document in demo_documents():
        reason = missing_requirement(document)
        if reason:
            skipped.append((document, reason))
            continue
        written.append((document, write_pdf(document, folder / f"DEMO-{document.name}.pdf")))
    return written, skipped


@dataclass
class DemoInstall:
    """What ``install_demo`` did: one ingest result per written PDF, the documents it could not
    write here (with the reason), and the document ids of each translation set."""

    results: list[Any]
    skipped: list[tuple[DemoDocument, str]]
    translation_sets: dict[str, list[int]]


def install_demo(store: StoreBackend, encoder: Encoder, *, progress: Callable[..., Any] | None = None) -> DemoInstall:
    """Write the demo PDFs into a temporary folder, ingest each with its known language, and mark
    each set of translations (``app.ui_translation_sets``) so the rank-distance chart has them.

    Documents already in the store come back as duplicates; nothing is written twice.
    """
    from app.ingest import ingest_paths
    from app.ui_translation_sets import mark_set

    results = []
    with tempfile.TemporaryDirectory(prefix="polylex-demo-") as folder:
        if progress:
            progress(0.0, desc="writing the demo PDFs")
        written, skipped = write_demo_pdfs(folder)
        for number, (document, path) in enumerate(written):
            def scaled(fraction: float, desc: str = "", _n: int = number) -> None:
                if progress:
                    progress((_n + fraction) / len(written), desc=f"demo {_n + 1}/{len(written)}: {desc}")

            [result] = ingest_paths([path], store=store, encoder=encoder, lang=document.lang, progress=scaled)
            results.append((document, result))
    by_set: dict[str, list[int]] = {}
    for document, result in results:
        if result.doc_id is not None and result.status in ("added", "duplicate"):
            by_set.setdefault(document.translation_set, []).append(result.doc_id)
    for members in by_set.values():
        if len(set(members)) >= 2:
            mark_set(store, members)
    return DemoInstall([r for _, r in results], skipped, by_set)


def demo_law_versions(encoder) -> tuple[dict, dict]:
    """The demo laws chunked as ingestion chunks them and embedded with ``encoder`` (one encode call).

    Returns ``(full, short)``: ``name -> DocChunks`` for each whole law ("tenancy.sw"), and for
    three-chunk versions like the browser test's PDFs (its own title without "DEMO –", then two
    articles): ``"tenancy.sw@2"`` holds articles 2 and 3. What the translation-set diagnostics are
    measured on (scripts/translation_set_margin.py) and tested with (tests/test_diagnostics.py).
    """
    import numpy as np

    from app.chunking import chunk_pages
    from app.diagnostics import DocChunks
    from app.ingest import chunk_budget, token_counter

    texts: dict[str, tuple[str, list[str]]] = {}  # name -> (language, chunk texts)
    for document in demo_documents():
        whole = document.title + "\n\n" + "\n\n".join(document.paragraphs)
        articles = [p for p in document.paragraphs if "\n" in p]  # "Article N" and its text
        versions = {document.name: whole}
        for first in (1, 2):
            versions[f"{document.name}@{first}"] = "\n\n".join(
                [document.title.split("–", 1)[1].strip(), *articles[first - 1:first + 1]])
        for name, text in versions.items():
            chunks = chunk_pages([text], count_tokens=token_counter(encoder), budget=chunk_budget(encoder))
            texts[name] = (document.lang, [c.text for c in chunks])
    flat = [t for _, chunk_texts in texts.values() for t in chunk_texts]
    vectors = np.asarray(encoder.encode_document(flat, batch_size=32))  # one call: ~120 chunks
    full, short, row = {}, {}, 0
    for name, (lang, chunk_texts) in texts.items():
        (short if "@" in name else full)[name] = DocChunks(lang, vectors[row:row + len(chunk_texts)])
        row += len(chunk_texts)
    return full, short
