"""app.chunking: legal headings, paragraphs, pages and the token budget (fake and real tokenizer)."""

from __future__ import annotations

import re

import pytest

from app.chunking import chunk_pages, heading_of
from app.ingest import token_counter
from tests.app_helpers import FakeTokenizer, real_encoder
from tests.pdf_factory import UDHR


def words(texts: list[str]) -> list[int]:
    return [len(ids) for ids in FakeTokenizer()(texts)["input_ids"]]


@pytest.mark.parametrize("line, heading", [
    ("Article 12", "Article 12"),
    ("Art. 8 Rechtsgleichheit", "Art. 8 Rechtsgleichheit"),
    ("§ 3 Geltungsbereich", "§ 3 Geltungsbereich"),
    ("Section 4A. Definitions", "Section 4A. Definitions"),
    ("Artículo 3", "Artículo 3"),
    ("Статья 15", "Статья 15"),
    ("Kifungu 7", "Kifungu 7"),
    ("المادة 5", "المادة 5"),
    ("5 المادة", "5 المادة"),  # Arabic as pypdf returns visually ordered text
    ("अनुच्छेद 21", "अनुच्छेद 21"),
    ("አንቀጽ 3", "አንቀጽ 3"),
    ("第十二条", "第十二条"),
    ("Part IV", "Part IV"),
    ("Article premier", "Article premier"),
    ("Section 3 of the Act applies to every contract concluded after that date.", None),
    ("Articles of association must be filed", None),
    ("Partner 5", None),
    ("The parties agree as follows.", None),
])
def test_heading_of(line, heading):
    assert heading_of(line) == heading


def test_long_heading_line_keeps_the_numbered_prefix():
    line = "Article 7. " + "Everyone has the right to respect for private and family life, home and correspondence."
    assert heading_of(line) == "Article 7"


def test_udhr_chunks_follow_articles_and_pages():
    pages = ["\n".join(UDHR[lang]) for lang in UDHR]
    chunks = chunk_pages(pages, count_tokens=words, budget=64)
    assert [(c.page, c.heading) for c in chunks[:4]] == [(1, "Article 1"), (1, "Article 3"),
                                                          (2, "Artikel 1"), (2, "Artikel 3")]
    assert [c.heading for c in chunks if c.page == 8] == ["第一条", "第三条"]
    # the heading line is part of the text, and the article body follows it
    assert chunks[1].text == "Article 3\nEveryone has the right to life, liberty and security of person."


def test_wrapped_lines_join_and_paragraphs_split():
    page = ("Article 2\n"
            "(1) The seller shall deliver the goods at the place and on the date agreed in the con-\n"
            "tract between the parties.\n"
            "(2) Risk passes when the buyer takes over the goods.\n"
            "第三条\n本合同自双方签字之日起生\n效。")
    chunks = chunk_pages([page], count_tokens=words, budget=20)
    texts = [c.text for c in chunks]
    assert [c.heading for c in chunks][0] == "Article 2"
    assert chunks[-1].heading == "第三条"
    assert any("in the contract between the parties." in t for t in texts)  # hyphenation undone
    assert any(t.startswith("(2) Risk passes") for t in texts)  # a paragraph of its own at this budget
    assert texts[-1] == "第三条\n本合同自双方签字之日起生效。"  # CJK joins without a space


def test_chunks_stay_within_sections_and_budget():
    body = " ".join(f"Sentence number {i} of the first article says something." for i in range(30))
    pages = [f"Article 1\n{body}\nArticle 2\nShort second article.", "Article 3\nOn page two."]
    chunks = chunk_pages(pages, count_tokens=words, budget=40)
    assert max(words([c.text for c in chunks])) <= 40
    assert {c.heading for c in chunks} == {"Article 1", "Article 2", "Article 3"}
    assert [c.heading for c in chunks][-2:] == ["Article 2", "Article 3"]
    assert chunks[-1].page == 2
    # nothing is lost: every word of the input is in exactly one chunk, in order
    assert " ".join(c.text for c in chunks).split() == " ".join(pages).split()


def test_section_spanning_pages_records_both():
    pages = ["Article 9\nThe first part of the article is here.", "And it continues on the next page."]
    chunks = chunk_pages(pages, count_tokens=words, budget=100)
    assert [(c.heading, c.page, c.page_end) for c in chunks] == [("Article 9", 1, 2)]


def test_heading_only_section_merges_into_the_next():
    chunks = chunk_pages(["Chapter 2\nArticle 5\nText of article five."], count_tokens=words, budget=50)
    assert [(c.heading, c.text) for c in chunks] == [("Article 5", "Chapter 2\nArticle 5\nText of article five.")]


def test_running_headers_and_page_numbers_are_dropped():
    bodies = ["Sale.", "Lease of goods.", "Loans.", "Work contracts.", "Agency."]
    pages = [f"Federal Act on Contracts {n}\nArticle {n}\n{body}\n{n}" for n, body in enumerate(bodies, start=1)]
    chunks = chunk_pages(pages, count_tokens=words, budget=50)
    assert all("Federal Act on Contracts" not in c.text for c in chunks)
    assert [c.text for c in chunks][:2] == ["Article 1\nSale.", "Article 2\nLease of goods."]


def test_without_structure_paragraphs_are_packed():
    paragraph = "A plain paragraph of prose without any legal structure at all, ending here."
    page = "\n\n".join([paragraph] * 6)
    chunks = chunk_pages([page], count_tokens=words, budget=30)
    assert all(c.heading is None for c in chunks)
    assert len(chunks) == 3  # two 13-word paragraphs per 30-token chunk


def test_unbreakable_text_is_split_by_characters():
    chunks = chunk_pages(["人" * 500], count_tokens=words, budget=64)
    assert max(words([c.text for c in chunks])) <= 64
    assert "".join(c.text for c in chunks) == "人" * 500


def test_budget_must_be_sensible():
    with pytest.raises(ValueError, match="budget=2"):
        chunk_pages(["x"], count_tokens=words, budget=2)


def test_real_tokenizer_budget_on_many_scripts():
    """Every chunk fits the budget measured with multilingual-e5's own tokenizer."""
    count = token_counter(real_encoder())
    long_pages = ["\n".join(paragraphs[:1] + [" ".join(paragraphs[1::2]) * 12]) for paragraphs in UDHR.values()]
    chunks = chunk_pages(long_pages, count_tokens=count, budget=96)
    assert max(count([c.text for c in chunks])) <= 96
    assert len({c.page for c in chunks}) == len(UDHR)
    rejoined = re.sub(r"\s+", "", "".join(c.text for c in chunks))
    assert rejoined == re.sub(r"\s+", "", "".join(long_pages))
