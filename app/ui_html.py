"""HTML fragments of the UI. Every piece of text that comes from a PDF or a user goes through
``esc`` (``html.escape`` with quotes), so a PDF containing ``<script>`` or ``<img onerror=…>``
shows that text and never runs it; markup is only ever written by this module.

Right-to-left text: snippets and titles carry ``dir="rtl"`` when their language is written
right to left and ``dir="auto"`` otherwise (the browser then follows the first strong letter).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from corpora.languages import (
    UnknownLanguage,
    get_language,
    is_low_resource,
    language_name,
)

RTL_SCRIPTS = {"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm"}
_FALLBACK_RTL = {"ar", "he", "fa", "ur", "ps", "sd", "dv", "yi", "ug", "ckb", "arz", "ary"}
SNIPPET_CHARS = 420

CSS = """
.plx-cards { display: flex; flex-direction: column; gap: 10px; }
.plx-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 14px;
            background: var(--background-fill-primary); }
.plx-card header { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.plx-rank { font-weight: 700; color: var(--body-text-color-subdued); min-width: 1.6em; }
.plx-title { font-weight: 600; font-size: 1.05em; }
.plx-meta { color: var(--body-text-color-subdued); font-size: 0.9em; margin: 4px 0 6px 0;
            display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
.plx-heading { font-weight: 600; color: var(--body-text-color); }
.plx-score { font-variant-numeric: tabular-nums; }
.plx-ocr { background: #e8eefc; color: #1d3b8a; border-radius: 4px; padding: 0 4px; }
.plx-ocr-low { background: #fde8e8; color: #8a1d1d; }
.plx-matched { background: #fef3c7; color: #713f12; border-radius: 4px; padding: 0 4px; }
.plx-snippet { margin: 0; line-height: 1.5; white-space: pre-line; }
.plx-snippet[dir=rtl] { text-align: right; }
.plx-snippet mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.plx-badge { display: inline-block; font: 600 0.78em/1.5 ui-monospace, monospace; padding: 0 6px;
             border-radius: 4px; background: #dbeafe; color: #1e3a8a; text-transform: lowercase; }
.plx-badge.plx-low { background: #fce7f3; color: #831843; }
.plx-badge.plx-und { background: #e5e7eb; color: #374151; }
.plx-note { color: var(--body-text-color-subdued); }
.plx-status-list { list-style: none; padding: 0; margin: 0; }
.plx-status-list li { padding: 3px 0; }
.plx-added { color: #15803d; font-weight: 600; }
.plx-duplicate { color: #a16207; font-weight: 600; }
.plx-refused { color: #b91c1c; font-weight: 600; }
.plx-demo { border: 1px dashed #a16207; border-radius: 8px; padding: 8px 12px; background: #fffbeb; color: #422006; }
.plx-explain { color: var(--body-text-color-subdued); font-size: 0.95em; }
details.plx-more summary { cursor: pointer; color: var(--link-text-color); font-size: 0.9em; }
"""


def esc(text: object) -> str:
    """Text -> HTML text (``&``, ``<``, ``>``, quotes escaped)."""
    return html.escape("" if text is None else str(text), quote=True)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, "page") == "1 page"``, ``plural(3, "page") == "3 pages"``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def is_rtl(lang: str) -> bool:
    try:
        return get_language(lang).script in RTL_SCRIPTS
    except UnknownLanguage:
        return lang in _FALLBACK_RTL


def text_dir(lang: str) -> str:
    return "rtl" if is_rtl(lang) else "auto"


def lang_label(lang: str) -> str:
    """``"Swahili (sw)"``; ``"unknown language"`` for ``und``."""
    if not lang or lang == "und":
        return "unknown language (und)"
    return f"{language_name(lang)} ({lang})"


def lang_badge(lang: str) -> str:
    """A small code badge plus the language name; low-resource languages get their own colour."""
    if not lang or lang == "und":
        return '<span class="plx-badge plx-und" title="language not identified">und</span> unknown'
    level = "low" if is_low_resource(lang) else "high"
    title = f"{language_name(lang)}: {level}-resource language"
    return (f'<span class="plx-badge plx-{level}" title="{esc(title)}">{esc(lang)}</span> '
            f'{esc(language_name(lang))}')


def highlight(text: str, words: Iterable[str]) -> str:
    """Escape ``text`` and wrap whole-word, case-insensitive occurrences of ``words`` in ``<mark>``.

    The text is split on the matches first and each piece is escaped on its own, so the markup
    added here can never combine with characters from the PDF.
    """
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return esc(text)
    pattern = re.compile("(" + "|".join(_bounded(w) for w in words) + ")", re.IGNORECASE)
    parts = pattern.split(text)
    # re.split with one group: even positions are text between matches, odd positions are matches
    return "".join(f"<mark>{esc(part)}</mark>" if i % 2 else esc(part) for i, part in enumerate(parts))


def _bounded(word: str) -> str:
    """The word as a pattern that matches it whole: a number not inside a longer number (12 in 第12条
    and Art.12, not in 120), a word not inside a longer word of a spaced script."""
    if word.isdigit():
        return rf"(?<!\d){re.escape(word)}(?!\d)"
    return rf"(?<!\w){re.escape(word)}(?!\w)"


def query_words(query: str) -> list[str]:
    """The terms hybrid search matched exactly (``app.search.exact_terms``: quoted phrases, numbers in
    every digit system, acronyms), to mark in the passages."""
    from app.search import exact_terms

    return exact_terms(query)


def _pages(page: int, page_end: int | None) -> str:
    if page_end and page_end != page:
        return f"pages {page}–{page_end}"
    return f"page {page}"


def result_card(rank: int, hit: object, *, words: Sequence[str] = (), mode: str = "dense") -> str:
    """One search result as a card: rank, title, file, page, heading, language, score, passage."""
    lang = getattr(hit, "lang", "und")
    direction = text_dir(lang)
    text = " ".join(str(getattr(hit, "text", "")).split())
    short = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"
    score = float(getattr(hit, "score", 0.0))
    score_help = ("cosine similarity of query and passage (higher is closer; about 0.8 and above is usually a "
                  "good match with the default encoder)" if mode != "hybrid"
                  else "reciprocal-rank-fusion score of the meaning and exact-word rankings (only the order matters)")
    heading = getattr(hit, "heading", None)
    title = getattr(hit, "title", "") or getattr(hit, "file", "")
    parts = [
        f'<article class="plx-card" data-rank="{rank}" data-doc="{esc(getattr(hit, "doc_id", ""))}" '
        f'data-lang="{esc(lang)}">',
        f'<header><span class="plx-rank">{rank}.</span>'
        f'<span class="plx-title" dir="{"rtl" if is_rtl(lang) else "auto"}">{esc(title)}</span></header>',
        '<div class="plx-meta">',
        f'<span title="file">{esc(getattr(hit, "file", ""))}</span>',
        f'<span>{_pages(int(getattr(hit, "page", 0)), getattr(hit, "page_end", None))}</span>',
    ]
    if heading:
        parts.append(f'<span class="plx-heading" dir="auto">{esc(heading)}</span>')
    matched = getattr(hit, "matched", ())
    if matched:
        shown = ", ".join(f"“{m}”" if " " in m else m for m in matched)
        parts.append(f'<span class="plx-matched" title="exact terms of the query this passage holds (hybrid '
                     f'search looked for them in every language)">matched: {esc(shown)}</span>')
    ocr_conf = getattr(hit, "ocr_conf", None)
    if ocr_conf is not None:
        low = " plx-ocr-low" if ocr_conf < LOW_OCR_CONFIDENCE else ""
        parts.append(f'<span class="plx-ocr{low}" title="this passage was read from a scanned page by OCR '
                     f'(Tesseract); check it on its page before citing it">OCR {ocr_conf:.0f}/100</span>')
    parts += [
        f"<span>{lang_badge(lang)}</span>",
        f'<span class="plx-score" title="{esc(score_help)}">score {score:.3f}</span>',
        "</div>",
        f'<p class="plx-snippet" dir="{direction}" lang="{esc(lang)}">{highlight(short, words)}</p>',
    ]
    if len(text) > len(short):
        parts.append(f'<details class="plx-more"><summary>whole passage</summary>'
                     f'<p class="plx-snippet" dir="{direction}" lang="{esc(lang)}">{highlight(text, words)}</p>'
                     f"</details>")
    parts.append("</article>")
    return "".join(parts)


def result_cards(hits: Sequence[object], *, query: str = "", mode: str = "dense") -> str:
    """The cards of a result list. The terms hybrid search matched are highlighted in hybrid mode (and with
    ``mode="phrases"``, the quoted-phrases-only search) only: dense search matches meaning, and marking
    shared words there would suggest it matched them."""
    words = query_words(query) if mode in ("hybrid", "phrases") else []
    cards = [result_card(i, hit, words=words, mode=mode) for i, hit in enumerate(hits, start=1)]
    return '<div class="plx-cards">' + "".join(cards) + "</div>"


def note(text: str) -> str:
    """A plain-text notice (escaped)."""
    return f'<p class="plx-note">{esc(text)}</p>'


_STATUS_WORDS = {"added": "added", "duplicate": "already in the library", "refused": "refused",
                 "cancelled": "cancelled"}
LOW_OCR_CONFIDENCE = 60.0  # app.ocr.LOW_CONFIDENCE (not imported: this module stays free of OCR imports)


def ingest_report(results: Sequence[object], *, names: dict[str, str] | None = None) -> str:
    """One line per file: added (pages, chunks, language) / already in the library / refused with the reason."""
    names = names or {}
    counts = {status: sum(getattr(r, "status", "") == status for r in results) for status in _STATUS_WORDS}
    summary = ", ".join(f"{n} {_STATUS_WORDS[s]}" for s, n in counts.items() if n)
    items = []
    for result in results:
        status = getattr(result, "status", "refused")
        path = str(getattr(result, "path", ""))
        name = names.get(path) or path.rsplit("/", 1)[-1]
        if status == "added":
            detail = (f'{plural(getattr(result, "pages", 0), "page")}, {plural(getattr(result, "chunks", 0), "passage")}, '
                      f'{lang_label(getattr(result, "lang", "und"))}')
            langs = getattr(result, "languages", {}) or {}
            if len(langs) > 1:
                detail += " — mixed: " + ", ".join(f"{language_name(code)} {share:.0%}" for code, share in langs.items())
            if getattr(result, "ocr_pages", 0):
                detail += f" — {plural(result.ocr_pages, 'page')} read by OCR"
            for warning in getattr(result, "warnings", []) or []:
                detail += f" — warning: {warning}"
        else:
            detail = getattr(result, "reason", "")
        word = _STATUS_WORDS.get(status, status)
        items.append(f'<li data-status="{esc(status)}"><span class="plx-{esc(status)}">{esc(word)}</span> — '
                     f"<b>{esc(name)}</b>: {esc(detail)}</li>")
    return (f"<p><b>{esc(summary or 'nothing to add')}</b></p>"
            f'<ul class="plx-status-list">{"".join(items)}</ul>')
