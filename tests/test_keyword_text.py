"""The keyword index's form of text and queries (app.keyword_text), which both stores use."""

from __future__ import annotations

import pytest

from app.keyword_text import (
    fts5_query,
    index_form,
    matched_terms,
    query_terms,
    quoted_phrases,
    tsquery,
    tsvector_literal,
)


@pytest.mark.parametrize("text, form", [
    ("किताब पढ़ो", "किताब पढ़ो"),  # vowel signs stay inside their word
    ("பொருளாதாரம்", "பொருளாதாரம்"),  # Tamil, with virama
    ("第12条 本合同", "第 12 条 本 合 同"),  # one token per character, digits apart
    ("สัญญาที่ดิน", "ส ั ญ ญ า ที่ ดิ น".replace("ส ั", "สั")),  # Thai graphemes: a base with its marks
    ("የመሬት ይዞታ", "የ መ ሬ ት ይ ዞ ታ"),  # Ethiopic syllables
    ("Ọmọ ẸGBẸ́", "omo egbe"),  # Yoruba tone and dot-below marks folded, case folded
    ("Điều 12. Quyền sở hữu", "dieu 12 quyen so huu"),  # Vietnamese
    ("المَادَّة أُولى ـ إلخ", "المادة اولى الخ"),  # harakat, hamza forms of alef, tatweel
    ("Art.12bis", "art 12 bis"),
    ("Ёлка и йод", "елка и иод"),
    ("Straße", "strasse"),
    ("", ""),
])
def test_index_form(text, form):
    assert index_form(text) == form


def test_a_query_asks_for_words_pairs_of_unspaced_graphemes_and_prefixes_of_long_words():
    terms = query_terms("本合同 Verfassungsgericht 12")
    assert terms.alternatives == (("本", "合"), ("合", "同"), ("verfassungsgericht",), ("12",))
    assert terms.prefixes == ("verfa",)
    assert not query_terms("?!  —")
    assert query_terms("法").alternatives == (("法",),)  # a single grapheme stands alone
    # the prolonged sound mark (Common script) stays inside its Katakana run
    assert query_terms("コンピューター").alternatives[-2:] == (("ー", "タ"), ("タ", "ー"))


def test_quoted_phrases_are_required_and_the_rest_only_ranks():
    assert quoted_phrases('the «bonne foi» rule and „Treu und Glauben“ or "force majeure"') == [
        "bonne foi", "Treu und Glauben", "force majeure"]
    terms = query_terms('"force majeure" contract')
    assert terms.required == (("force", "majeure"),) and terms.alternatives == (("contract",),)
    assert fts5_query(terms) == '"force majeure" AND ("contract" OR "contr" * OR "force majeure")'
    assert tsquery(terms) == "('force' <-> 'majeure') & (('contract') | 'contr':* | ('force' <-> 'majeure'))"
    assert fts5_query(query_terms('"force majeure"')) == '"force majeure"'


def test_postgres_gets_the_tokens_with_their_positions_as_a_literal():
    assert tsvector_literal("第12条 第") == "'第':1,4 '12':2 '条':3"
    assert tsvector_literal("") == ""
    long = " ".join(["x"] * 300)
    assert tsvector_literal(long).count(",") == 255  # the server keeps at most 256 positions of a lexeme


def test_matched_terms_follow_the_index_not_the_letters():
    text = "第12条 Ọmọ ẹgbẹ́ — force majeure; 120"
    assert matched_terms(text, ["12", "omo", "force majeure", "majeure force", "1", "20"]) == ["12", "omo", "force majeure"]
