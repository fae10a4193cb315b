"""Benchmark OCR: character error rate per language and script, and search through scanned copies.

1. **Character error rate.** For each language a page of held-out NTREX-128 sentences (the test
   split, by story) is written with fpdf2 and the Noto fonts (every script shaped by HarfBuzz, as
   typesetting software does), rendered by pdfium at 300 and 200 dpi, clean and degraded (1.5 deg
   skew, blur, 0.5 % salt-and-pepper noise: ``tests/scans.py``), and read by ``app.ocr.ocr_image``
   with the language given (the user's choice on ingest) and, at 300 dpi clean, without it (the
   models chosen by OSD and the script trial). CER = 1 - matched characters / reference characters
   (difflib, NFC, whitespace ignored).
2. **Search through scans.** Legal PDFs (``tests/legal_pdfs.py``: 12 articles with each language's
   own headings, bodies of held-out NTREX sentences aligned across languages) in 8 languages and
   their scanned copies (200 dpi) are ingested through ``app.ingest`` (OCR without a language
   given) into two stores with the shipped default model; for each article an English question (the
   English of its first sentence) is searched in each document, and the top passage's article is
   compared. Goal (issue 13): the scans give the right article at least 90 % as often as the text.
3. **pytesseract or tesserocr.** Seconds per page through the ``tesseract`` command (pytesseract,
   what the app uses) and through the in-process C API (tesserocr), the same pages and models.

Usage: python bench/ocr.py [--quick]     (about 25 minutes on 2 cores; needs POLYLEX_DATA)
Writes bench/results/ocr.json and prints the README tables.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ocr import LANGUAGE_MODELS, installed_models, ocr_image, tesseract_version
from corpora.settings import get_settings
from tests import scans
from tests.pdf_factory import make_pdf

# language -> script, for the CER table: the 10 languages and 4 more, 10 scripts
CER_LANGUAGES = {"sw": "Latin", "yo": "Latin", "en": "Latin", "am": "Ethiopic", "ti": "Ethiopic", "km": "Khmer",
                 "my": "Myanmar", "ne": "Devanagari", "hi": "Devanagari", "si": "Sinhala", "ar": "Arabic",
                 "zh": "Han", "ru": "Cyrillic", "th": "Thai"}
SEARCH_LANGUAGES = ("sw", "yo", "am", "ar", "ne", "ru", "hi", "vi")
SENTENCES_PER_PAGE = 12
GOAL = 0.9


def heldout(data: Path, langs: set[str]) -> dict[str, list[str]]:
    """Held-out NTREX-128 sentences (test split), in file order, line-aligned across languages."""
    from app.langid.texts import labelled_texts

    out: dict[str, list[str]] = {}
    for item in labelled_texts(data, ("ntrex-128",)):
        if item.split == "test" and item.lang in langs:
            out.setdefault(item.lang, []).append(item.text)
    return out


def bench_cer(sentences: dict[str, list[str]], folder: Path, quick: bool) -> list[dict]:
    rows = []
    for lang, script in CER_LANGUAGES.items():
        text = " ".join(sentences[lang][:SENTENCES_PER_PAGE])
        source = make_pdf(folder / f"cer-{lang}.pdf", [[text]], shape_all=True)
        for dpi in (300,) if quick else (300, 200):
            clean = scans.page_images(source, dpi=dpi)[0]
            cases = [("clean", clean, lang)]
            if not quick:
                cases.append(("degraded", scans.degrade(clean, seed=1), lang))
            if dpi == 300:
                cases.append(("clean, no language given", clean, None))
            for condition, image, hint in cases:
                started = time.perf_counter()
                with one_thread():
                    page = ocr_image(image.convert("RGB"), lang=hint, timeout=600)
                rows.append({"lang": lang, "script": script, "dpi": dpi, "condition": condition,
                             "models": page.models, "cer": round(scans.cer(text, page.text), 4),
                             "confidence": page.confidence, "seconds": round(time.perf_counter() - started, 2)})
                print(f"{lang:3} {dpi} {condition:26} {page.models:10} CER {rows[-1]['cer']:.3f} "
                      f"conf {page.confidence:5.1f} {rows[-1]['seconds']:5.1f} s", flush=True)
    return rows


def _aligned(sentences: dict[str, list[str]], langs: tuple[str, ...]) -> dict[str, list[str]]:
    """Line-aligned sentences without Latin letters in any non-Latin-script language's line (fpdf2
    sets those in a fallback font and pypdf returns mixed lines out of order)."""
    from tests.legal_pdfs import _has_latin

    size = min(len(sentences[lang]) for lang in (*langs, "en"))
    latin = {"sw", "yo", "vi"}
    keep = [i for i in range(size) if not any(_has_latin(sentences[lang][i]) for lang in langs if lang not in latin)]
    return {lang: [sentences[lang][i] for i in keep] for lang in (*langs, "en")}


def bench_search(sentences: dict[str, list[str]], folder: Path, quick: bool) -> dict:
    from app.ingest import ingest_paths
    from app.search import search
    from app.store import Store
    from tests.legal_pdfs import articles_from, document_title
    from trainer.encoder import load_encoder

    langs = SEARCH_LANGUAGES[:3] if quick else SEARCH_LANGUAGES
    aligned = _aligned(sentences, langs)
    english = articles_from(aligned["en"], "fr")  # the same sentence indices; "fr" only for its heading shape
    encoder = load_encoder("default")
    per_lang = {}
    for lang in langs:
        articles = articles_from(aligned[lang], lang)
        paragraphs = [document_title(articles)]
        for article in articles:
            paragraphs += [article.heading, *article.paragraphs]
        text_pdf = make_pdf(folder / f"law-{lang}.pdf", [paragraphs], shape_all=True)
        scan_pdf = scans.make_scan(text_pdf, folder / f"law-{lang}-scan.pdf", dpi=200)
        bodies = ["".join(ch for ch in " ".join(a.paragraphs) if ch.isalnum()) for a in articles]

        def article_of(text: str) -> int:
            squeezed = "".join(ch for ch in text if ch.isalnum())
            return max(range(len(bodies)), key=lambda i: SequenceMatcher(None, squeezed, bodies[i],
                                                                         autojunk=False).ratio())

        found = {}
        for kind, pdf in (("text", text_pdf), ("scan", scan_pdf)):
            with Store.open(folder / f"store-{kind}-{lang}") as store:
                started = time.perf_counter()
                [result] = ingest_paths([pdf], store=store, encoder=encoder)
                seconds = time.perf_counter() - started
                assert result.status == "added", result.line()
                tops = []
                for article in english:
                    question = article.paragraphs[0].split(". ")[0]
                    hit = search(store, encoder, question, k=1).results[0]
                    tops.append(article_of(hit.text))
                found[kind] = {"tops": tops, "pages": result.pages, "ocr_pages": result.ocr_pages,
                               "seconds": round(seconds, 1), "warnings": result.warnings}
        n = len(english)
        right = {kind: sum(top == i for i, top in enumerate(found[kind]["tops"])) / n for kind in found}
        same = sum(a == b for a, b in zip(found["text"]["tops"], found["scan"]["tops"])) / n
        per_lang[lang] = {"questions": n, "right_text": round(right["text"], 3), "right_scan": round(right["scan"], 3),
                          "same_top1": round(same, 3), "pages": found["scan"]["pages"],
                          "ocr_pages": found["scan"]["ocr_pages"], "ingest_seconds_text": found["text"]["seconds"],
                          "ingest_seconds_scan": found["scan"]["seconds"], "warnings": found["scan"]["warnings"]}
        print(f"{lang}: right text {right['text']:.2f} scan {right['scan']:.2f} same top-1 {same:.2f} "
              f"({found['scan']['ocr_pages']} pages OCR, {found['scan']['seconds']:.0f} s)", flush=True)
    text_total = sum(r["right_text"] for r in per_lang.values())
    scan_total = sum(r["right_scan"] for r in per_lang.values())
    return {"languages": per_lang, "right_text": round(text_total / len(per_lang), 3),
            "right_scan": round(scan_total / len(per_lang), 3),
            "ratio": round(scan_total / text_total, 3) if text_total else None,
            "same_top1": round(statistics.mean(r["same_top1"] for r in per_lang.values()), 3), "goal": GOAL}


@contextmanager
def one_thread():
    """``OMP_THREAD_LIMIT=1`` for the tesseract commands started inside (the app sets it for its reader)."""
    before = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OMP_THREAD_LIMIT")
        else:
            os.environ["OMP_THREAD_LIMIT"] = before


def bench_libraries(folder: Path, quick: bool) -> dict:
    """Seconds per page: the tesseract command (pytesseract) against the C API in process (tesserocr)."""
    import pytesseract

    try:
        import tesserocr
    except ImportError:
        return {"skipped": "tesserocr is not installed (pip install -r requirements-dev.txt)"}
    pages = [(lang, model) for lang, model in (("en", "eng"), ("am", "amh"), ("ar", "ara"))]
    tessdata = "/usr/share/tesseract-ocr/5/tessdata/"
    out: dict = {"pages": [], "repeats": 1 if quick else 3}
    for lang, model in pages:
        image = scans.page_images(folder / f"cer-{lang}.pdf", dpi=300)[0]
        timings = {"pytesseract, OpenMP default": [], "pytesseract": [], "tesserocr": []}
        for _ in range(out["repeats"]):
            started = time.perf_counter()
            pytesseract.image_to_data(image, lang=model)
            timings["pytesseract, OpenMP default"].append(time.perf_counter() - started)
            started = time.perf_counter()
            with one_thread():  # as the app's reader process runs it
                pytesseract.image_to_data(image, lang=model)
            timings["pytesseract"].append(time.perf_counter() - started)
            started = time.perf_counter()
            with tesserocr.PyTessBaseAPI(path=tessdata, lang=model) as api:
                api.SetImage(image)
                api.GetUTF8Text()
            timings["tesserocr"].append(time.perf_counter() - started)
        row = {"lang": lang, "model": model, **{k: round(statistics.median(v), 2) for k, v in timings.items()}}
        out["pages"].append(row)
        print(f"{lang}: pytesseract {row['pytesseract']:.2f} s (OpenMP default {row['pytesseract, OpenMP default']:.2f} s), "
              f"tesserocr {row['tesserocr']:.2f} s", flush=True)
    out["ratio_median"] = round(statistics.median(r["pytesseract"] / r["tesserocr"] for r in out["pages"]), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 dpi only, 3 search languages (a smoke run)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ocr.json"))
    args = parser.parse_args()
    if tesseract_version() is None:
        sys.exit("Tesseract is not installed: scripts/install-system-packages.sh")
    data = get_settings().data
    sentences = heldout(data, set(CER_LANGUAGES) | set(SEARCH_LANGUAGES) | {"en"})
    load_before = os.getloadavg()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cer_rows = bench_cer(sentences, folder, args.quick)
        libraries = bench_libraries(folder, args.quick)
        search_result = bench_search(sentences, folder, args.quick)
    result = {
        "benchmark": "ocr", "date": datetime.date.today().isoformat(), "command": "python bench/ocr.py"
        + (" --quick" if args.quick else ""), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()], "seconds": round(time.time() - started),
        "tesseract": tesseract_version(), "models_installed": len(installed_models()),
        "language_models": len(LANGUAGE_MODELS), "cer": cer_rows, "libraries": libraries, "search": search_result,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_tables(result)


def print_tables(result: dict) -> None:
    rows = result["cer"]
    print("\n| language | script | model | 300 dpi | 300 dpi degraded | 200 dpi | 200 dpi degraded | 300 dpi, no language given (model) |")
    print("|---|---|---|---|---|---|---|---|")
    for lang, script in CER_LANGUAGES.items():
        def get(dpi: int, condition: str) -> dict | None:
            return next((r for r in rows if r["lang"] == lang and r["dpi"] == dpi and r["condition"] == condition), None)

        cells = [get(300, "clean"), get(300, "degraded"), get(200, "clean"), get(200, "degraded")]
        auto = get(300, "clean, no language given")
        model = cells[0]["models"] if cells[0] else "-"
        shown = [f"{c['cer']:.3f}" if c else "-" for c in cells]
        auto_cell = f"{auto['cer']:.3f} ({auto['models']})" if auto else "-"
        print(f"| {lang} | {script} | {model} | " + " | ".join(shown) + f" | {auto_cell} |")
    search = result["search"]
    print("\n| language | questions | right article, text PDF | right article, scanned copy | same top-1 |")
    print("|---|---|---|---|---|")
    for lang, r in search["languages"].items():
        print(f"| {lang} | {r['questions']} | {r['right_text']:.2f} | {r['right_scan']:.2f} | {r['same_top1']:.2f} |")
    print(f"| **all** | | {search['right_text']:.3f} | {search['right_scan']:.3f} (ratio {search['ratio']}) | "
          f"{search['same_top1']:.3f} |")


if __name__ == "__main__":
    main()
