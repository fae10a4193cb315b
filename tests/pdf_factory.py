"""Real PDFs for tests and benchmarks, written with fpdf2 and real Noto fonts.

Scripts covered: Latin, Cyrillic, Greek (NotoSans), Arabic (RTL, NotoNaskhArabic), Devanagari,
Ethiopic, Thai, Hebrew, Bengali, Georgian, Armenian, Tamil, Khmer, Myanmar, Sinhala and CJK (NotoSansCJK, a .ttc collection). The fonts come from the Debian
packages ``fonts-noto-core`` and ``fonts-noto-cjk``; ``fonts_available()`` says whether they are
installed so tests can skip with that message instead of failing obscurely.

Right-to-left paragraphs (Arabic, Hebrew) are shaped with HarfBuzz (the test-only package
``uharfbuzz``), which stores them in visual order as real producers do; pypdf reorders them back.
Other scripts are written unshaped, in logical order: shaped Devanagari comes back from pypdf with
stray control characters, and those quirks are tested on their own (``tests/test_pdf.py``).

Besides good PDFs the factory makes every kind of bad input ingestion must refuse: corrupt,
truncated, encrypted (with and without an empty user password), scanned (image only), empty and
non-PDF files.

Example::

    from tests.pdf_factory import make_pdf, UDHR
    make_pdf("/tmp/ru.pdf", [UDHR["ru"]], title="Декларация")
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from fpdf import FPDF

try:
    import uharfbuzz  # noqa: F401  (fpdf2's shaping engine)
    _HAVE_HARFBUZZ = True
except ImportError:  # Arabic is then written in logical order and pypdf reads it reversed
    _HAVE_HARFBUZZ = False

FONT_DIRS = [Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto")]
DEBIAN_PACKAGES = "fonts-noto-core fonts-noto-cjk"

# family -> (file name, collection index); NotoSans covers Latin, Cyrillic and Greek.
_FONTS = {
    "NotoSans": ("NotoSans-Regular.ttf", 0),
    "NotoNaskhArabic": ("NotoNaskhArabic-Regular.ttf", 0),
    "NotoSansDevanagari": ("NotoSansDevanagari-Regular.ttf", 0),
    "NotoSansEthiopic": ("NotoSansEthiopic-Regular.ttf", 0),
    "NotoSansThai": ("NotoSansThai-Regular.ttf", 0),
    "NotoSansHebrew": ("NotoSansHebrew-Regular.ttf", 0),
    "NotoSansCJK": ("NotoSansCJK-Regular.ttc", 2),  # index 2 = Simplified Chinese
    "NotoSansBengali": ("NotoSansBengali-Regular.ttf", 0),
    "NotoSansGeorgian": ("NotoSansGeorgian-Regular.ttf", 0),
    "NotoSansArmenian": ("NotoSansArmenian-Regular.ttf", 0),
    "NotoSansTamil": ("NotoSansTamil-Regular.ttf", 0),
    "NotoSansKhmer": ("NotoSansKhmer-Regular.ttf", 0),
    "NotoSansMyanmar": ("NotoSansMyanmar-Regular.ttf", 0),
    "NotoSansSinhala": ("NotoSansSinhala-Regular.ttf", 0),
}

# Articles 1 and 3 of the Universal Declaration of Human Rights (public translations), one
# paragraph per article, each starting with the language's own word for "Article".
UDHR: dict[str, list[str]] = {
    "en": [
        "Article 1",
        "All human beings are born free and equal in dignity and rights. They are endowed with reason "
        "and conscience and should act towards one another in a spirit of brotherhood.",
        "Article 3",
        "Everyone has the right to life, liberty and security of person.",
    ],
    "de": [
        "Artikel 1",
        "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und "
        "Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.",
        "Artikel 3",
        "Jeder hat das Recht auf Leben, Freiheit und Sicherheit der Person.",
    ],
    "es": [
        "Artículo 1",
        "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como están de "
        "razón y conciencia, deben comportarse fraternalmente los unos con los otros.",
        "Artículo 3",
        "Todo individuo tiene derecho a la vida, a la libertad y a la seguridad de su persona.",
    ],
    "ru": [
        "Статья 1",
        "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и "
        "совестью и должны поступать в отношении друг друга в духе братства.",
        "Статья 3",
        "Каждый человек имеет право на жизнь, на свободу и на личную неприкосновенность.",
    ],
    "ar": [
        "المادة 1",
        "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميرًا وعليهم أن يعامل "
        "بعضهم بعضًا بروح الإخاء.",
        "المادة 3",
        "لكل فرد الحق في الحياة والحرية وفي الأمان على شخصه.",
    ],
    "hi": [
        "अनुच्छेद 1",
        "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है। उन्हें "
        "बुद्धि और अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव करना चाहिए।",
        "अनुच्छेद 3",
        "प्रत्येक व्यक्ति को जीवन, स्वाधीनता और वैयक्तिक सुरक्षा का अधिकार है।",
    ],
    "am": [
        "አንቀጽ 1",
        "የሰው ልጅ ሁሉ ሲወለድ ነጻና በክብርና በመብትም እኩልነት ያለው ነው። የተፈጥሮ ማስተዋልና ሕሊና ስላለው "
        "አንዱ ሌላውን በወንድማማችነት መንፈስ መመልከት ይገባዋል።",
        "አንቀጽ 3",
        "እያንዳንዱ ሰው በሕይወት የመኖር፣ የነጻነትና በሰላም የመኖር መብት አለው።",
    ],
    "zh": [
        "第一条",
        "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。",
        "第三条",
        "人人有权享有生命、自由和人身安全。",
    ],
    "sw": [
        "Kifungu 1",
        "Watu wote wamezaliwa huru, hadhi na haki zao ni sawa. Wote wamejaliwa akili na dhamiri, hivyo "
        "yapasa watendeane kindugu.",
        "Kifungu 3",
        "Kila mtu ana haki ya kuishi, uhuru na usalama wa nafsi yake.",
    ],
}


def font_path(family: str) -> Path | None:
    name = _FONTS[family][0]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


def fonts_available() -> bool:
    return all(font_path(family) for family in _FONTS)


def _family_for(text: str) -> str:
    """The font family for a paragraph, chosen by its first letter's script."""
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for marker, family in (("ARABIC", "NotoNaskhArabic"), ("DEVANAGARI", "NotoSansDevanagari"),
                               ("ETHIOPIC", "NotoSansEthiopic"), ("THAI", "NotoSansThai"),
                               ("HEBREW", "NotoSansHebrew"), ("CJK", "NotoSansCJK"),
                               ("HIRAGANA", "NotoSansCJK"), ("KATAKANA", "NotoSansCJK"),
                               ("HANGUL", "NotoSansCJK"), ("BENGALI", "NotoSansBengali"),
                               ("GEORGIAN", "NotoSansGeorgian"), ("ARMENIAN", "NotoSansArmenian"),
                               ("TAMIL", "NotoSansTamil"), ("KHMER", "NotoSansKhmer"),
                               ("MYANMAR", "NotoSansMyanmar"), ("SINHALA", "NotoSansSinhala")):
            if marker in name:
                return family
        return "NotoSans"
    return "NotoSans"


def _new_pdf(title: str | None) -> FPDF:
    if not fonts_available():
        raise RuntimeError(f"Noto fonts missing: apt-get install {DEBIAN_PACKAGES}")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    for family, (_, index) in _FONTS.items():
        pdf.add_font(family, fname=str(font_path(family)), collection_font_number=index)
    # Fallbacks let one paragraph mix scripts (e.g. a Latin citation inside Arabic text).
    pdf.set_fallback_fonts(list(_FONTS), exact_match=False)
    if title:
        pdf.set_title(title)
    return pdf


def make_pdf(path: str | Path, pages: list[list[str]], *, title: str | None = None,
             font_size: int = 11, shape_all: bool = False) -> Path:
    """Write a text PDF: ``pages[i]`` is the list of paragraphs on page i + 1.

    Paragraphs are separated by a blank line, as in most typeset documents; a page that
    overflows continues on the next one (fpdf2 breaks pages by itself). ``shape_all`` shapes
    every script with HarfBuzz, as typesetting software does (conjuncts, ligatures).
    """
    pdf = _new_pdf(title)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            family = _family_for(paragraph)
            pdf.set_font(family, size=font_size)
            rtl = family in ("NotoNaskhArabic", "NotoSansHebrew")
            pdf.set_text_shaping((rtl or shape_all) and _HAVE_HARFBUZZ)
            align = "R" if rtl else "L"
            pdf.multi_cell(0, font_size * 0.55, paragraph, align=align, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(font_size * 0.4)
    path = Path(path)
    pdf.output(str(path))
    return path


def make_udhr_pdf(path: str | Path, langs: list[str], *, title: str | None = None) -> Path:
    """One page per language with UDHR articles 1 and 3."""
    return make_pdf(path, [UDHR[lang] for lang in langs], title=title)


# --- bad inputs -------------------------------------------------------------------------------

def make_scanned_pdf(path: str | Path, pages: int = 2) -> Path:
    """An image-only PDF whose pages hold ruled lines and no text: no text layer, and nothing for
    OCR to read either (a scan that reads must come from ``tests.scans``)."""
    from PIL import Image, ImageDraw

    pdf = FPDF(format="A4")
    for number in range(pages):
        image = Image.new("RGB", (600, 800), "white")
        draw = ImageDraw.Draw(image)
        for line in range(30):
            draw.line((40, 40 + line * 24, 560, 40 + line * 24), fill="black", width=3)
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=190)
    path = Path(path)
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: str | Path, source: str | Path, *, user_password: str,
                       algorithm: str = "AES-256") -> Path:
    """``source`` encrypted by pypdf; an empty ``user_password`` opens without asking (permissions only)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    path = Path(path)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_truncated_pdf(path: str | Path, source: str | Path, keep: float = 0.6) -> Path:
    """The first ``keep`` share of a valid PDF's bytes, like an interrupted download."""
    data = Path(source).read_bytes()
    path = Path(path)
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_corrupt_pdf(path: str | Path, source: str | Path) -> Path:
    """A valid PDF whose body is overwritten with noise; header and trailer stay in place."""
    data = bytearray(Path(source).read_bytes())
    start, end = 16, len(data) - 64
    for i in range(start, end):
        data[i] = (i * 7919) % 251
    path = Path(path)
    path.write_bytes(bytes(data))
    return path


def make_fake_pdf(path: str | Path) -> Path:
    """A text file named .pdf."""
    path = Path(path)
    path.write_text("This is not a PDF at all, whatever its name says.\n", encoding="utf-8")
    return path


def make_empty_file(path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path
