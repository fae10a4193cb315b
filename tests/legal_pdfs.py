"""Legal documents in many languages and scripts, as PDFs, with each language's own article headings.

For the chunker's "one passage per provision" (``tests/test_legal_structure.py``,
``bench/chunking.py``): every document has ``ARTICLES`` articles whose bodies are held-out NTREX-128
sentences of its language (a news text standing in for law; what matters here is the layout) and
whose headings are written the way that language's legal texts write them, most of them in shapes
the chunker's word list does not know: a word between heading and number ("Kifungu cha 3."), the
number first ("3. cikk", "3-бап"), capitals without accents ("ΑΡΘΡΟ 3"), native digits ("धारा ३",
"ধারা ৩", "ماده ۳"), Ethiopic and CJK numerals ("አንቀጽ ፫", "第三条"), a spelled-out first
ordinal ("Article premier"). One article in each is longer than the token budget.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from app.langid.scripts import count_scripts
from tests.pdf_factory import make_pdf

ARTICLES = 12
LONG_ARTICLE = 5  # its body is over the chunk budget: it must split, every piece under its heading

# lang -> (heading template, numerals); {n} is the number written in those numerals.
HEADINGS: dict[str, tuple[str, str]] = {
    # Latin
    "sw": ("Kifungu cha {n}.", "ascii"), "hu": ("{n}. cikk", "ascii"), "fi": ("{n} artikla", "ascii"),
    "lv": ("{n}. pants", "ascii"), "lt": ("{n} straipsnis", "ascii"), "so": ("Qodobka {n}aad", "ascii"),
    "ha": ("Sashe na {n}", "ascii"), "zu": ("Isigaba {n}", "ascii"), "rw": ("Ingingo ya {n}", "ascii"),
    "sq": ("Neni {n}", "ascii"), "ms": ("Perkara {n}", "ascii"), "tl": ("Artikulo {n}", "ascii"),
    "vi": ("Điều {n}.", "ascii"), "fr": ("Article {n}", "ascii"), "yo": ("Abala {n}", "ascii"),
    "pl": ("Art. {n}.", "ascii"), "nl": ("Artikel {n}", "ascii"), "ro": ("Articolul {n}", "ascii"),
    # Cyrillic, Greek
    "ru": ("Статья {n}", "ascii"), "kk": ("{n}-бап", "ascii"), "mn": ("{n} дүгээр зүйл", "ascii"),
    "sr": ("Члан {n}.", "ascii"), "el": ("ΑΡΘΡΟ {n}", "ascii"),
    # Arabic, Hebrew
    "ar": ("المادة {n}", "arabic"), "fa": ("ماده {n}", "persian"), "ur": ("دفعہ {n}", "ascii"),
    "he": ("סעיף {n}", "ascii"),
    # Indic
    "hi": ("अनुच्छेद {n}", "devanagari"), "ne": ("धारा {n}", "devanagari"), "bn": ("ধারা {n}", "bengali"),
    "ta": ("பிரிவு {n}", "ascii"),
    # Ethiopic, Thai, Georgian, Armenian, CJK
    "am": ("አንቀጽ {n}", "ethiopic"), "th": ("ข้อ {n}", "ascii"), "ka": ("მუხლი {n}", "ascii"),
    "hy": ("Հոդված {n}", "ascii"), "zh": ("第{n}条", "cjk"), "ja": ("第{n}条", "cjk"),
}
_DIGITS = {"arabic": 0x0660, "persian": 0x06F0, "devanagari": 0x0966, "bengali": 0x09E6}
_CJK = "〇一二三四五六七八九"


def numeral(n: int, system: str) -> str:
    """``n`` (1..99) written in ``system``: "12", "١٢", "۱۲", "१२", "১২", "፲፪", "十二"."""
    if system == "ascii":
        return str(n)
    if system in _DIGITS:
        return "".join(chr(_DIGITS[system] + int(d)) for d in str(n))
    tens, units = divmod(n, 10)
    if system == "ethiopic":
        return (chr(0x1371 + tens) if tens else "") + (chr(0x1368 + units) if units else "")
    if system == "cjk":
        return ("" if tens < 2 else _CJK[tens]) + ("十" if tens else "") + (_CJK[units] if units else "")
    raise ValueError(f"unknown numeral system {system!r}")


RIGHT_TO_LEFT = {"ar", "fa", "ur", "he"}
# fpdf2 writes the text layer of a .ttc collection font (NotoSansCJK) wrongly past about 254
# distinct glyphs (checked: 260 distinct ideographs come back from pypdf with 6 wrong), so a
# CJK document keeps to fewer; its sentences then recur, in order.
CJK_GLYPHS = 240


def _within_glyphs(sentences: list[str], cap: int) -> list[str]:
    chosen: list[str] = []
    glyphs: set[str] = set()
    for sentence in sentences:
        if len(glyphs | set(sentence)) <= cap:
            chosen.append(sentence)
            glyphs |= set(sentence)
    return chosen


def _has_latin(text: str) -> bool:
    return count_scripts(text).counts["Latin"] > 0


def heading(lang: str, n: int) -> str:
    template, system = HEADINGS[lang]
    if lang == "fr" and n == 1:
        return "Article premier"  # the UDHR's and French law's first article
    return template.format(n=numeral(n, system))


@dataclass(frozen=True)
class Article:
    heading: str
    paragraphs: tuple[str, ...]


def articles_from(sentences: list[str], lang: str) -> list[Article]:
    """``ARTICLES`` articles from consecutive sentences: 2-4 sentences each (some in two
    paragraphs), the ``LONG_ARTICLE``-th with 30. In a language not written in Latin letters,
    sentences quoting Latin names are left out: fpdf2 sets them in a fallback font, and pypdf
    returns such mixed right-to-left or CJK lines out of order, which would measure pypdf."""
    if not _has_latin(HEADINGS[lang][0].replace("{n}", "")):
        sentences = [s for s in sentences if not _has_latin(s)]
    if HEADINGS[lang][1] == "cjk":
        sentences = _within_glyphs(sentences, CJK_GLYPHS)
    articles, at = [], 0
    for n in range(1, ARTICLES + 1):
        size = 30 if n == LONG_ARTICLE else 2 + n % 3
        body = [sentences[i % len(sentences)] for i in range(at, at + size)]
        at += size
        paragraphs = (" ".join(body),) if n % 2 or len(body) < 2 else (" ".join(body[:1]), " ".join(body[1:]))
        articles.append(Article(heading(lang, n), paragraphs))
    return articles


def document_title(articles: list[Article]) -> str:
    """A title in the document's own language and script: the first words of its first article."""
    return " ".join(articles[0].paragraphs[0].split()[:4])[:24].rstrip(".,;:")


def make_legal_pdf(path: Path, articles: list[Article], *, title: str) -> Path:
    """One PDF: a title, then every article's heading and paragraphs (fpdf2 breaks the pages).

    The title should be in the document's script: pypdf may put a Latin title and a right-to-left
    heading under it on one line."""
    paragraphs = [title]
    for article in articles:
        paragraphs += [article.heading, *article.paragraphs]
    return make_pdf(path, [paragraphs], title=title)


def _squeeze(text: str) -> str:
    """Letters and digits only: PDF text layers move spaces, punctuation and (right to left) numbers."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


def _same_heading(found: str | None, written: str) -> bool:
    # Right-to-left headings come back from pypdf in visual order ("1 دفعہ" for "دفعہ 1", and
    # "۰۱" for "۱۰": a known limit of the text layer, not of the chunker): compare the words, and
    # the digits of a number as a set.
    def words(text: str) -> list[str]:
        return sorted("".join(sorted(w)) if w.isdigit() else w for w in map(_squeeze, text.split()))

    return found is not None and words(found) == words(written)


def passages_per_article(articles: list[Article], chunks: list, *, count_tokens, budget: int, rtl: bool = False) -> list[dict]:
    """For each article: whether it fits the token budget, how many chunks sit under its heading,
    whether it came out as exactly one passage, and whether every chunk of its text sits under its heading.

    One passage: exactly one chunk under its heading, holding all its paragraphs and no other
    article's. Paragraphs are found by their first and last 40 letters, in reading order. pypdf
    returns right-to-left paragraphs line by line in visual order, so there (``rtl``) the letters
    of a paragraph need not be found; the heading count decides alone.
    """
    sizes = count_tokens(["\n".join([article.heading, *article.paragraphs]) for article in articles])
    texts = [_squeeze(chunk.text) for chunk in chunks]
    results, at = [], 0
    for article, size in zip(articles, sizes):
        under = {i for i, chunk in enumerate(chunks) if _same_heading(chunk.heading, article.heading)}
        where: set[int] = set()
        for paragraph in article.paragraphs:
            for key in (_squeeze(paragraph)[:40], _squeeze(paragraph)[-40:]):
                hits = [i for i in range(at, len(texts)) if key in texts[i]]
                # A sentence that recurs (CJK documents reuse theirs): the occurrence under this heading.
                hit = next((i for i in hits if i in under), hits[0] if hits else None)
                if hit is not None:
                    where.add(hit)
                    at = hit
        results.append({
            "heading": article.heading,
            "fits": size <= budget,
            "chunks": len(under),
            "one_passage": len(under) == 1 and (where <= under if rtl else where == under),
            "under_its_heading": bool(under) and where <= under,
        })
    return results


def written_and_read(lang: str, sentences: list[str], folder: Path) -> tuple[list[Article], list[str]]:
    """The articles of ``lang``'s document and the page texts ``app.pdf`` reads back from its PDF."""
    from app.pdf import read_pdf

    articles = articles_from(sentences, lang)
    path = make_legal_pdf(folder / f"{lang}.pdf", articles, title=document_title(articles))
    return articles, read_pdf(path, max_mb=50).pages


def heldout_sentences(data: Path) -> dict[str, list[str]]:
    """Held-out NTREX-128 sentences (the test split, by story) of every language of ``HEADINGS``, in order."""
    from app.langid.texts import labelled_texts

    sentences: dict[str, list[str]] = {}
    for item in labelled_texts(data, ("ntrex-128",)):
        if item.split == "test" and item.lang in HEADINGS:
            sentences.setdefault(item.lang, []).append(item.text)
    return sentences
