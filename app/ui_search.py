"""Search tab handlers: query language, search, result cards, and the model the library uses."""

from __future__ import annotations

import gradio as gr

from app import ui_errors, ui_html, ui_resources
from app.errors import NotInLibrary
from app.ui_resources import AUTO, LastSearch

PHRASES_ONLY = "phrases"  # a choice of the "Match by" radio: hybrid search keeping only the quoted phrases' passages
MODE_CHOICES = [
    ("Meaning (dense: finds answers in any language)", "dense"),
    ("Meaning + exact terms (hybrid: also lifts passages with the query's article numbers and acronyms, in every "
     "language: Article 12, § 3, Kifungu cha 5; and marks those holding a \"phrase in quotes\")", "hybrid"),
    ("Only passages holding the \"quoted words\" exactly (in any language that writes them so), by meaning",
     PHRASES_ONLY),
]


def describe_query_language(query: str, override: str | None) -> str:
    """The line under the search box: the detected language, or the one the user chose."""
    from app.langid import detect

    if override and override != AUTO:
        return f"Query language: **{ui_html.lang_label(override)}** (chosen by you)"
    if not query or not query.strip():
        return "Query language: detected when you type (any language works)."
    found = detect(query)
    if found.lang == "und":
        return ("Query language: **not sure** (too short, mixed, or a language Polylex does not identify). "
                "Searching works anyway, in every language; "
                "choose it under “Query language” if you know it.")
    return f"Query language: **{ui_html.lang_label(found.lang)}**, detected ({found.confidence:.0%} sure)"


def _check_model(spec: str) -> None:
    store = ui_resources.get_store()
    library = ui_resources.library_model_spec()
    if store.chunk_count() and spec != library:
        raise ui_errors.refusal(
            f"The library is indexed with “{ui_resources.label_of(library)}”; to search with "
            f"“{ui_resources.label_of(spec)}”, first re-index the library with it (button under the model list) "
            "or pick the library's model.")


def _encoder(spec: str) -> object:
    from corpora.errors import PolylexError

    try:
        return ui_resources.get_encoder(spec)
    except PolylexError as exc:  # a missing model, a damaged adapter
        raise ui_errors.refusal(ui_errors.message(exc)) from exc


def run_search(query: str, query_lang: str, k: float, langs: list[str] | None, docs: list | None, mode: str,
               model: str | None) -> tuple[str, str, LastSearch, dict]:
    """Search the library; returns the result cards, the query-language line, the search's record and
    the choices of the "on its page" list."""
    from app.errors import ModelMismatch
    from app.keyword_text import quoted_phrases
    from app.search import search
    from app.ui_pages import page_choices

    if not query or not query.strip():
        raise ui_errors.refusal("Type a question or some words first, in any language.")
    phrases_only = mode == PHRASES_ONLY
    if phrases_only and not quoted_phrases(query):
        raise ui_errors.refusal('Put the words that must appear in double quotes, e.g. "force majeure" (or choose '
                       "another way to match).")
    store = ui_resources.get_store()
    if not store.chunk_count():
        raise ui_errors.refusal("The library is empty: add PDFs in the Library tab, or load the demo library (button at the top).")
    spec = model or ui_resources.library_model_spec()
    _check_model(spec)
    try:
        doc_ids = [int(d) for d in docs or []]
    except (TypeError, ValueError) as exc:
        raise ui_errors.refusal(f"Documents are chosen by their id (a number), got {docs!r}.") from exc
    encoder = _encoder(spec)
    override = query_lang if query_lang and query_lang != AUTO else None
    try:
        response = search(store, encoder, query, k=int(k), langs=langs or None, docs=doc_ids or None,
                          mode="hybrid" if phrases_only else (mode or "dense"), query_lang=override,
                          phrases_only=phrases_only)
    except ModelMismatch as exc:
        raise ui_errors.refusal(ui_errors.message(exc)) from exc
    except ValueError as exc:
        raise ui_errors.refusal(str(exc)) from exc
    lang_line = describe_query_language(query, override)
    record = LastSearch(query=query, query_lang=response.query_lang, model=spec,
                        chunk_ids=[h.chunk_id for h in response.results], langs=list(langs or []), k=int(k),
                        query_vector=response.query_vector)
    if not response.results:
        empty = ("No passage holds the quoted words exactly as written (case and accents aside)." if phrases_only
                 else "No passages match these filters: widen the language or document filter.")
        return ui_html.note(empty), lang_line, record, page_choices([])
    filters = []
    if langs:
        filters.append("languages: " + ", ".join(ui_html.lang_label(lang) for lang in langs))
    if docs:
        filters.append(f"{len(docs)} chosen document(s)")
    holding = " and ".join(f"“{p}”" for p in quoted_phrases(query))
    head = (f"{len(response.results)} passages" + (f" holding {holding}, by meaning" if phrases_only else ", best first")
            + (f" (only {'; '.join(filters)})" if filters else " (all languages)")
            + ". Language bias of this list: see the Diagnostics tab.")
    cards = ui_html.result_cards(response.results, query=query, mode=PHRASES_ONLY if phrases_only else response.mode)
    return ui_html.note(head) + cards, lang_line, record, page_choices(response.results)


def model_notice(spec: str | None) -> tuple[str, dict]:
    """Which model the library is indexed with, and whether the re-index button applies."""
    library = ui_resources.library_model_spec()
    store = ui_resources.get_store()
    loaded = " (loaded)" if ui_resources.encoder_loaded(library) else " (loads on first use)"
    text = f"Library indexed with: **{ui_resources.label_of(library)}**{loaded if store.chunk_count() else ''}."
    differs = bool(spec) and spec != library and store.chunk_count() > 0
    if differs:
        text += (f" To search with **{ui_resources.label_of(spec)}**, re-index the library with it: every passage "
                 f"({store.chunk_count()}) is encoded again; the current index keeps serving until it is done.")
    return text, gr.update(visible=differs)


def reindex_library(spec: str | None, progress: gr.Progress = gr.Progress()) -> str:
    from app.ingest import reindex

    if not spec:
        raise ui_errors.refusal("Choose a model first.")
    progress(0.0, desc="loading the model")
    count = reindex(ui_resources.get_store(), _encoder(spec), progress=progress)
    return ui_html.note(f"Re-indexed {count} passages with {ui_resources.label_of(spec)}.")


def model_dropdown() -> dict:
    choices = [(option.label, option.spec) for option in ui_resources.model_options()]
    library = ui_resources.library_model_spec()
    if library not in [spec for _, spec in choices]:
        choices.append((f"{library} (the library's model)", library))
    return gr.update(choices=choices, value=library)


def other_languages(chunk_id: object) -> str:
    """The chosen result's best match in every other document's language, as cards (best first)."""
    from app.search import other_languages as find

    if chunk_id in (None, "", []):
        raise ui_errors.refusal("Choose a result first (the list above), then ask for its other language versions.")
    try:
        chunk = int(chunk_id)
    except (TypeError, ValueError) as exc:
        raise ui_errors.refusal(f"Results are chosen by their passage id (a number), got {chunk_id!r}.") from exc
    try:
        hits = find(ui_resources.get_store(), chunk)
    except NotInLibrary as exc:
        raise ui_errors.refusal(ui_errors.message(exc)) from exc
    if not hits:
        return ui_html.note("No other document in the library to compare with.")
    intro = ui_html.note(f"The closest passage of another document in each of {len(hits)} languages; the score is "
                         "the cosine between the two passages (1 = the same meaning, as the model sees it).")
    return intro + ui_html.result_cards(hits)
