"""The demo library: its texts, its PDFs (written at first start) and its installation into a store.

Also the user-marked translation sets it relies on (``app/ui_translation_sets.py``).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest

from app.demo_corpus import demo_documents, missing_requirement, write_demo_pdfs
from corpora.languages import LANGUAGES, is_low_resource

HEADING = re.compile(r"^(Article|Artículo|Artikel|Статья|Kifungu|Sashe|अनुच्छेद|धारा|አንቀጽ|المادة)\s+\d+$")


def _require_fonts() -> None:
    reasons = {reason for document in demo_documents() if (reason := missing_requirement(document))}
    if reasons:
        message = "demo PDFs cannot be written here: " + "; ".join(sorted(reasons))
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_texts_cover_six_languages_two_low_resource_and_translation_sets():
    documents = demo_documents()
    langs = {d.lang for d in documents}
    assert len(langs) >= 6
    assert all(lang in LANGUAGES for lang in langs)
    assert len({lang for lang in langs if is_low_resource(lang)}) >= 2
    by_set = defaultdict(list)
    for document in documents:
        by_set[document.translation_set].append(document)
    assert sum(len(members) >= 2 for members in by_set.values()) >= 2
    for name, members in by_set.items():
        # translations: the same number of articles, numbered alike, in every language
        numbers = {tuple(p.split("\n")[0].split()[-1] for p in d.paragraphs if HEADING.match(p.split("\n")[0]))
                   for d in members}
        assert len(numbers) == 1, (name, numbers)
        assert len(next(iter(numbers))) >= 3, (name, numbers)


def test_every_text_is_labelled_demo():
    for document in demo_documents():
        assert document.title.startswith("DEMO"), document.name
        assert not HEADING.match(document.paragraphs[0].split("\n")[0]), f"{document.name}: the fiction note comes first"


def test_pdfs_read_back_with_title_language_and_headings(tmp_path):
    from app.langid import detect
    from app.pdf import read_pdf

    _require_fonts()
    written, skipped = write_demo_pdfs(tmp_path)
    assert skipped == []
    assert len(written) == len(demo_documents())
    for document, path in written:
        pdf = read_pdf(path, max_mb=5)
        text = "\n".join(pdf.pages)
        assert pdf.title == document.title
        last_article = text[text.rindex(document.paragraphs[-1].split("\n")[0].split()[0]):]
        assert detect(last_article).lang == document.lang, document.name  # what ingestion sees per chunk
        assert document.paragraphs[-1].split()[-1].rstrip("።.") in text.replace("\n", " "), document.name


def test_install_into_an_empty_store_marks_translations_and_is_idempotent(tmp_path, default_encoder):
    from app.demo_corpus import install_demo
    from app.search import search
    from app.store import Store
    from app.ui_translation_sets import load_sets

    _require_fonts()
    store = Store.open(tmp_path / "store")
    calls = []
    install = install_demo(store, default_encoder, progress=lambda fraction, desc="": calls.append(fraction))
    assert [r.status for r in install.results] == ["added"] * len(demo_documents())
    assert calls
    assert max(calls) <= 1.0
    docs = {d.id: d for d in store.documents()}
    assert all(d.title.startswith("DEMO") and d.lang_source == "user" for d in docs.values())
    sets = load_sets(store)
    assert len(sets) == 2
    for members in sets:
        assert len({docs[m].lang for m in members}) == len(members)  # one document per language
        assert len({docs[m].file.split(".")[0] for m in members}) == 1  # all versions of one law

    again = install_demo(store, default_encoder)
    assert {r.status for r in again.results} == {"duplicate"}
    assert len(store.documents()) == len(docs)
    assert load_sets(store) == sets

    response = search(store, default_encoder, "How long may the landlord keep the security deposit?", k=5)
    assert "tenancy" in response.results[0].file

