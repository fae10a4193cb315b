"""Legal structure without a word list: provision headings recognised by their shape, in 37 languages.

The multilingual check writes real PDFs (fpdf2, Noto fonts) whose headings are in each
language's own words and numerals, reads them back with ``app.pdf`` and chunks them with the
encoder's tokenizer; ``bench/chunking.py`` reports the same per language.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chunking import DEFAULT_BUDGET, _shape, _shape_headings, chunk_pages
from app.langid.scripts import dominant_script
from tests.app_helpers import FakeTokenizer
from tests.legal_pdfs import (
    HEADINGS,
    RIGHT_TO_LEFT,
    heading,
    heldout_sentences,
    numeral,
    passages_per_article,
    written_and_read,
)
from tests.pdf_factory import fonts_available


def words(texts: list[str]) -> list[int]:
    return [len(ids) for ids in FakeTokenizer()(texts)["input_ids"]]


@pytest.mark.parametrize(("line", "shape"), [
    ("Kifungu cha 12.", ("kifungu cha #", 12)),   # a word between heading word and number
    ("12. cikk", ("# cikk", 12)),                 # the number first
    ("ΑΡΘΡΟ 12", ("αρθρο #", 12)),                # capitals without accents fold to the same wording
    ("Άρθρο 12", ("αρθρο #", 12)),
    ("धारा १२", ("धारा #", 12)),                  # native digits
    ("ماده ۱۲", ("ماده #", 12)),
    ("አንቀጽ ፲፪", ("አንቀጽ #", 12)),                # Ethiopic numerals add up
    ("Article XIV", ("article #", 14)),           # Roman numerals
    ("Qodobka 3aad", ("qodobka #", 3)),           # an ordinal suffix
    ("3-бап", ("#-бап", 3)),
    ("1. The court shall decide on the appeal within thirty days", None),  # a numbered paragraph
    ("The fee is 20 dollars for each of the 3 copies requested by the applicant in writing today", None),
    ("", None),
])
def test_the_shape_of_a_heading(line: str, shape: tuple[str, int] | None) -> None:
    assert _shape(line) == shape


def test_a_wording_must_recur_with_rising_numbers() -> None:
    lines = ["Ibara 1", "text", "Ibara 2", "more text", "Ibara 3"]
    assert _shape_headings(lines) == {"Ibara 1", "Ibara 2", "Ibara 3"}
    assert _shape_headings(["Ibara 1", "Ibara 2"]) == set()  # twice is no pattern
    assert _shape_headings(["Ibara 9", "Ibara 2", "Ibara 7", "Ibara 1"]) == set()  # numbers going nowhere
    # Spelled-out ordinals: the first article among numbered ones, or every one spelled out.
    assert "Article premier" in _shape_headings(["Article premier", "Article 2", "Article 3", "Article 4"])
    spelled = ["مادهٔ اول", "مادهٔ دوم", "مادهٔ سوم", "مادهٔ چهارم", "مادهٔ پنجم"]
    assert _shape_headings(spelled) == set(spelled)


def test_recurring_headings_make_one_chunk_per_provision_without_the_word_list() -> None:
    page = "\n".join(
        f"Kifungu cha {n}.\nMtu yeyote ana haki ya kupata elimu bila malipo katika ngazi ya msingi {n}."
        for n in range(1, 8)
    )
    chunks = chunk_pages([page], count_tokens=words, budget=DEFAULT_BUDGET)
    assert [c.heading for c in chunks] == [f"Kifungu cha {n}." for n in range(1, 8)]


def test_prose_with_numbers_and_a_numbered_list_stays_prose() -> None:
    page = (
        "The applicant paid 20 dollars in 2019 and 30 dollars in 2020.\n"
        "1. The court shall decide on the appeal within thirty days of the hearing.\n"
        "2. The court may extend that time once, by a decision that gives its reasons.\n"
        "3. The decision is served on both parties by registered letter the same day.\n"
    )
    chunks = chunk_pages([page], count_tokens=words, budget=DEFAULT_BUDGET)
    assert all(chunk.heading is None for chunk in chunks)


def test_numerals_of_the_generated_documents() -> None:
    assert [numeral(12, system) for system in ("ascii", "arabic", "persian", "devanagari", "bengali", "ethiopic", "cjk")] == [
        "12", "١٢", "۱۲", "१२", "১২", "፲፪", "十二"]
    assert heading("fr", 1) == "Article premier" and heading("hu", 3) == "3. cikk" and heading("zh", 20) == "第二十条"


@pytest.mark.skipif(not fonts_available(), reason="Noto fonts missing: scripts/install-system-packages.sh")
def test_one_passage_per_provision_in_37_languages(data_set, tmp_path: Path) -> None:
    """Every provision that fits the budget is exactly one passage; a long one splits, every piece under its heading."""
    from app.ingest import token_counter
    from tests.app_helpers import real_encoder

    sentences = heldout_sentences(data_set("ntrex-128").parent)
    count = token_counter(real_encoder())
    scripts, shares = set(), {}
    for lang in HEADINGS:
        articles, pages = written_and_read(lang, sentences[lang], tmp_path)
        rows = passages_per_article(articles, chunk_pages(pages, count_tokens=count), count_tokens=count,
                                    budget=DEFAULT_BUDGET, rtl=lang in RIGHT_TO_LEFT)
        fitting = [row for row in rows if row["fits"]]
        shares[lang] = sum(row["one_passage"] for row in fitting) / len(fitting)
        assert all(row["under_its_heading"] for row in rows if not row["fits"]), lang
        scripts.add(dominant_script(HEADINGS[lang][0].replace("{n}", "")))
    assert len(shares) >= 20 and len(scripts) >= 10
    assert min(shares.values()) >= 0.8, shares
    assert sum(shares.values()) / len(shares) >= 0.95, shares
