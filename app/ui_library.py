"""Library tab handlers: upload, per-document language, delete, translation sets, demo library.

Each handler is a plain function of component values; messages meant for the user are raised as
``gr.Error``. ``library_view`` computes everything that depends on the library's contents (the
table, the language chart, the filter choices of the Search tab) so every change refreshes the
whole page from one place.
"""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr
import pandas as pd

from app import ui_errors, ui_html, ui_resources
from app.errors import NotInLibrary
from app.ui_resources import AUTO
from app.ui_translation_sets import load_sets, mark_set, unmark
from corpora.languages import LANGUAGES

CANCELLED = "__cancelled__"
"""What the delete button's confirm dialog passes on when the user says no."""


def language_choices(*, auto_label: str = "Auto-detect") -> list[tuple[str, str]]:
    """Dropdown choices: auto-detect first, then every known language by name."""
    named = sorted(((f"{lang.name} ({code})", code) for code, lang in LANGUAGES.items()), key=lambda c: c[0])
    return [(auto_label, AUTO), *named]


def _doc_label(doc: object) -> str:
    title = doc.title or doc.file
    short = title if len(title) <= 60 else title[:59] + "…"
    return f"{doc.id} · {short} ({doc.file})"


def library_view() -> dict:
    """Everything the page shows about the library, as plain values (see ``ui.refresh_outputs``)."""
    store = ui_resources.get_store()
    documents = store.documents()
    by_lang = store.languages()
    sets = load_sets(store)
    set_of = {doc_id: number for number, members in enumerate(sets, start=1) for doc_id in members}
    table = pd.DataFrame(
        [{"ID": d.id, "Title": d.title, "File": d.file, "Language": ui_html.lang_label(d.lang),
          "Set by": "given" if d.lang_source == "user" else "detected", "Pages": d.pages,
          "Passages": d.chunks, "Translation set": f"set {set_of[d.id]}" if d.id in set_of else "",
          "Added (UTC)": d.added.replace("T", " ").rstrip("Z")} for d in documents],
        columns=["ID", "Title", "File", "Language", "Set by", "Pages", "Passages", "Translation set",
                 "Added (UTC)"])
    docs_per_lang: dict[str, int] = {}
    for d in documents:
        docs_per_lang[d.lang] = docs_per_lang.get(d.lang, 0) + 1
    chart = language_chart(by_lang, docs_per_lang)
    chunks = sum(by_lang.values())
    if documents:
        totals = (f"**{ui_html.plural(len(documents), 'document')}, {ui_html.plural(chunks, 'passage')}, "
                  f"{ui_html.plural(len(by_lang), 'language')}.** "
                  + " · ".join(f"{ui_html.lang_label(lang)}: {ui_html.plural(n, 'passage')}"
                               + (f" in {ui_html.plural(docs_per_lang[lang], 'document')}" if lang in docs_per_lang else "")
                               for lang, n in by_lang.items()))
    else:
        totals = "**The library is empty.** Add PDFs above, or load the demo library."
    lang_filter = [(f"{ui_html.lang_label(lang)} — {ui_html.plural(n, 'passage')}", lang) for lang, n in by_lang.items()]
    doc_choices = [(_doc_label(d), d.id) for d in documents]
    return {"documents": documents, "table": table, "chart": chart, "totals": totals, "lang_filter": lang_filter,
            "doc_choices": doc_choices, "empty": not documents, "sets": sets}


def language_of(doc_choice: object) -> dict:
    """The chosen document's current language, to preselect it in the language list."""
    if doc_choice in (None, "", []):
        return gr.update(value=None)
    doc = ui_resources.get_store().document(int(doc_choice))
    return gr.update(value=doc.lang if doc and doc.lang in LANGUAGES else None)


def language_chart(passages: dict[str, int], documents: dict[str, int]) -> object:
    """Horizontal bars: passages per language (most first), low-resource languages in their own colour."""
    from matplotlib.figure import Figure

    from corpora.languages import is_low_resource

    langs = list(passages)[::-1]  # matplotlib draws bottom-up; the largest goes on top
    figure = Figure(figsize=(7.5, max(1.6, 0.38 * len(langs) + 0.9)), layout="constrained")
    axes = figure.add_subplot()
    if not langs:
        axes.text(0.5, 0.5, "no documents yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    colors = ["#db2777" if is_low_resource(lang) else "#2563eb" for lang in langs]
    names = [ui_html.lang_label(lang) for lang in langs]
    bars = axes.barh(names, [passages[lang] for lang in langs], color=colors)
    axes.bar_label(bars, [f" {ui_html.plural(passages[lang], 'passage')}, {ui_html.plural(documents.get(lang, 0), 'document')}"
                          for lang in langs], fontsize=8)
    axes.set_xlabel("passages")
    axes.margins(x=0.25)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    from matplotlib.patches import Patch

    # Above the axes, not inside: the bars and their labels fill the plot.
    axes.legend(handles=[Patch(color="#2563eb", label="high-resource"), Patch(color="#db2777", label="low-resource")],
                loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False, fontsize=8)
    return figure


_cancels: dict[str, threading.Event] = {}  # browser session -> its upload's cancel flag
_cancels_lock = threading.Lock()


def _cancel_flag(request: gr.Request | None) -> threading.Event:
    key = getattr(request, "session_hash", None) or "api"
    with _cancels_lock:
        return _cancels.setdefault(key, threading.Event())


def cancel_upload(request: gr.Request = None) -> str:
    """Stop this browser session's upload (queued or running): the file being read is dropped at
    once (its reader process is killed), the files already added stay."""
    _cancel_flag(request).set()
    return ui_html.note("Cancelling: the file being read is dropped, the files already added stay.")


def upload(files: list[str] | None, lang: str, progress: gr.Progress = gr.Progress(),
           request: gr.Request = None) -> tuple[str, None]:
    """Ingest the uploaded files; one line per file says added / already there / refused and why.
    Returns the report and ``None`` for the file component (emptied for the next batch)."""
    from app.ingest import ingest_paths
    from corpora.errors import PolylexError

    if not files:
        raise ui_errors.refusal("No files received: drop PDFs on the upload area or click it to choose files.")
    paths = [str(f) for f in files]
    progress(0.0, desc="loading the model")
    store = ui_resources.get_store()
    try:
        encoder = ui_resources.get_encoder()
        cancel = _cancel_flag(request)
        results = ingest_paths(paths, store=store, encoder=encoder, lang=None if lang in (None, "", AUTO) else lang,
                               settings=ui_resources.settings(), progress=progress, cancel=cancel)
        cancel.clear()  # a cancel applies to the upload it was clicked for, not to the next one
    except PolylexError as exc:  # another model's library, a damaged adapter: words for the page
        raise ui_errors.refusal(ui_errors.message(exc)) from exc
    return ui_html.ingest_report(results, names={p: Path(p).name for p in paths}), None


def _doc_id(choice: object) -> int:
    if choice in (None, "", []):
        raise ui_errors.refusal("Choose a document first (the list under “Document”).")
    return int(choice)


def set_language(doc_choice: object, lang: str) -> str:
    """Correct a document's language (all its passages take it); the embeddings do not change."""
    doc_id = _doc_id(doc_choice)
    if not lang or lang == AUTO:
        raise ui_errors.refusal("Choose the document's language from the list (auto-detect is not a language).")
    store = ui_resources.get_store()
    try:
        doc = store.set_language(doc_id, lang)
    except NotInLibrary as exc:
        raise ui_errors.refusal(ui_errors.message(exc)) from exc
    except ValueError as exc:
        raise ui_errors.refusal(f"Not a language Polylex knows: {exc}") from exc
    return ui_html.note(f"Document {doc_id} ({doc.file}) is now marked as {ui_html.lang_label(doc.lang)}.")


def delete_document(doc_choice: object) -> str:
    if doc_choice == CANCELLED:
        return gr.skip()
    doc_id = _doc_id(doc_choice)
    store = ui_resources.get_store()
    try:
        doc = store.delete_document(doc_id)
    except NotInLibrary as exc:
        raise ui_errors.refusal(ui_errors.message(exc)) from exc
    return ui_html.note(f"Deleted document {doc_id}: {doc.title} ({doc.file}), {doc.chunks} passages.")


def mark_translations(doc_choices: list | None) -> str:
    store = ui_resources.get_store()
    ids = [int(c) for c in doc_choices or []]
    if len(ids) < 2:
        raise ui_errors.refusal("Choose at least two documents that are translations of each other.")
    try:
        sets = mark_set(store, ids)
    except NotInLibrary as exc:
        raise ui_errors.refusal(ui_errors.message(exc)) from exc
    return ui_html.note(f"Marked documents {', '.join(map(str, sorted(ids)))} as translations of each other "
                        f"({len(sets)} translation set(s) in the library).")


def unmark_translation(doc_choice: object) -> str:
    doc_id = _doc_id(doc_choice)
    unmark(ui_resources.get_store(), doc_id)
    return ui_html.note(f"Document {doc_id} is no longer part of a marked translation set.")


def load_demo(progress: gr.Progress = gr.Progress()) -> str:
    """Write the demo PDFs and ingest them, each with its known language; mark the translation sets."""
    from app.demo_corpus import install_demo

    progress(0.0, desc="loading the model")
    install = install_demo(ui_resources.get_store(), ui_resources.get_encoder(), progress=progress)
    html = ui_html.ingest_report(install.results)
    if install.skipped:
        html += ui_html.note("Left out here: " + "; ".join(f"{d.name}: {why}" for d, why in install.skipped))
    added = sum(r.status == "added" for r in install.results)
    summary = (f"Demo library loaded: {added} fictional laws written for Polylex (every title starts with DEMO), "
               "the versions of each law marked as translations of one another. Try a question in the Search tab.")
    return f'<details class="plx-more"><summary>{ui_html.esc(summary)}</summary>{html}</details>'

