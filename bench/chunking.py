"""Benchmark legal structure: does each provision come out as exactly one passage, in every language?

For every language of ``tests/legal_pdfs.py`` (36 languages, 14 scripts) a PDF with 12 articles is
written with fpdf2: headings in that language's own words and numerals, bodies from held-out
NTREX-128 sentences, one article longer than the chunk budget. It is read back with ``app.pdf``
and chunked by ``app.chunking`` with multilingual-e5's tokenizer at the default budget, once as
shipped and once with the word list alone (the chunker before heading shapes), and each article
is checked (``passages_per_article``): one passage when it fits the budget, every piece under
its heading when it does not.

Goal (issue 12): >= 0.95 of the provisions that fit come out as exactly one passage, no language
below 0.8.

Usage: python bench/chunking.py    (about 2 minutes on 2 cores; needs POLYLEX_DATA with ntrex-128)
Writes bench/results/chunking.json and prints the README table.
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
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import chunking
from corpora.settings import get_settings
from tests.legal_pdfs import HEADINGS, RIGHT_TO_LEFT, heldout_sentences, passages_per_article, written_and_read

GOAL, FLOOR = 0.95, 0.8


def measure(documents: dict[str, tuple[list, list[str]]], count_tokens, *, shapes: bool) -> dict[str, dict]:
    results = {}
    for lang, (articles, pages) in documents.items():
        if shapes:
            chunks = chunking.chunk_pages(pages, count_tokens=count_tokens)
        else:
            with mock.patch.object(chunking, "_shape_headings", lambda lines: set()):
                chunks = chunking.chunk_pages(pages, count_tokens=count_tokens)
        rows = passages_per_article(articles, chunks, count_tokens=count_tokens, budget=chunking.DEFAULT_BUDGET,
                                    rtl=lang in RIGHT_TO_LEFT)
        fitting = [row for row in rows if row["fits"]]
        long = [row for row in rows if not row["fits"]]
        results[lang] = {
            "heading_example": articles[2].heading,
            "provisions_fitting": len(fitting),
            "one_passage_share": round(sum(row["one_passage"] for row in fitting) / len(fitting), 4) if fitting else None,
            "long_provisions": len(long),
            "long_under_their_heading_share": round(sum(row["under_its_heading"] for row in long) / len(long), 4) if long else None,
            "chunks": len(chunks),
            "failed": [row["heading"] for row in fitting if not row["one_passage"]],
        }
    return results


def _overall(results: dict[str, dict]) -> dict:
    shares = [r["one_passage_share"] for r in results.values() if r["one_passage_share"] is not None]
    fitting = sum(r["provisions_fitting"] for r in results.values())
    one = sum(round(r["one_passage_share"] * r["provisions_fitting"]) for r in results.values() if r["provisions_fitting"])
    return {
        "languages": len(results),
        "provisions_fitting": fitting,
        "one_passage_share": round(one / fitting, 4),
        "mean_of_languages": round(statistics.fmean(shares), 4),
        "worst": sorted((share, lang) for lang, r in results.items() if (share := r["one_passage_share"]) is not None)[:5],
        "languages_below_floor": sorted(lang for lang, r in results.items() if (r["one_passage_share"] or 0) < FLOOR),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chunking.json")
    args = parser.parse_args()
    from app.ingest import token_counter
    from trainer.encoder import load_encoder

    settings = get_settings()
    started = time.perf_counter()
    load = os.getloadavg()
    sentences = heldout_sentences(settings.data)
    missing = sorted(set(HEADINGS) - set(sentences))
    if missing:
        parser.error(f"no NTREX-128 text for {missing} under {settings.data} (set POLYLEX_DATA)")
    count_tokens = token_counter(load_encoder("base"))
    with tempfile.TemporaryDirectory() as folder:
        # Each PDF is written and read once; both chunkers see the same pages.
        documents = {lang: written_and_read(lang, sentences[lang], Path(folder)) for lang in HEADINGS}
    shipped = measure(documents, count_tokens, shapes=True)
    words_only = measure(documents, count_tokens, shapes=False)
    scripts = sorted({_script(lang) for lang in HEADINGS})
    report = {
        "what": "share of provisions that come out as exactly one passage, generated legal PDFs; see bench/chunking.py",
        "date": datetime.date.today().isoformat(),
        "command": "python bench/chunking.py",
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in load]},
        "budget_tokens": chunking.DEFAULT_BUDGET,
        "scripts": scripts,
        "goal": {"overall": GOAL, "every_language": FLOOR},
        "shipped": {"overall": _overall(shipped), "per_language": shipped},
        "word_list_only": {"overall": _overall(words_only), "per_language": words_only},
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(report))
    return 0


def _script(lang: str) -> str:
    from app.langid.scripts import dominant_script

    return dominant_script(HEADINGS[lang][0].replace("{n}", "")) or "?"


def table(report: dict) -> str:
    """The README table: per language, heading example, one-passage share before and after."""
    lines = ["| language | heading (3rd article) | one passage: shipped | word list only |", "|---|---|---|---|"]
    for lang, row in report["shipped"]["per_language"].items():
        before = report["word_list_only"]["per_language"][lang]["one_passage_share"]
        lines.append(f"| {lang} | {row['heading_example']} | {row['one_passage_share']:.2f} | {before:.2f} |")
    s, w = report["shipped"]["overall"], report["word_list_only"]["overall"]
    lines.append(f"| **all {s['languages']}** ({len(report['scripts'])} scripts) | | **{s['one_passage_share']:.3f}** | {w['one_passage_share']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
