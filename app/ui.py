"""The Gradio page of Polylex: Search, Library, Diagnostics and Models tabs, and the demo library.

``demo`` is the module-level Blocks (``app.py`` runs ``demo.queue().launch(**launch_kwargs())``,
locally and on a Hugging Face Space). The handlers live in ``app/ui_*.py`` as plain functions of
component values; this module only lays out the page and wires events.

Concurrency: searches (and the diagnostics that follow them) share one queue slot pool of
``POLYLEX_CONCURRENCY`` workers; everything that writes to the library (upload, demo, delete,
language, re-index, translation marks) runs one at a time in its own pool, so a long upload never
blocks searching. Settings are the ``POLYLEX_*`` variables of ``corpora.settings``.
"""

from __future__ import annotations

import os

import gradio as gr

from app import ui_diagnostics, ui_html, ui_library, ui_models, ui_pages, ui_resources, ui_search
from app.ui_library import language_choices
from app.store_open import describe_store
from app.ui_resources import AUTO

INTRO = """# Polylex — search legal documents across languages
Add PDFs in any language, then ask a question in any language: Polylex finds the passages that answer it,
whatever language they are written in, and shows whether the ranking favours some languages over others."""

DEMO_TEXT = """**Your library is empty.** Load the demo library to try Polylex at once: 11 short *fictional* laws
(a tenancy act and a data-protection act, written for this project — every title starts with **DEMO**, none is real law)
in 10 languages: English, French, Spanish, German, Russian, Arabic and the low-resource Swahili, Amharic, Hausa and
Nepali. The versions of each act are translations of one another, so the Diagnostics tab can show how far apart the
search ranks them. Or add your own PDFs in the Library tab."""

LIBRARY_HELP = """Add PDFs (many at once). Each file ends as **added**, **already in the library** (same content as a
document you have) or **refused** with the reason (not a PDF, damaged, password-protected, too big). Scanned pages are
read by OCR (Tesseract) in their own language: choose the files' language below when you know it (Tesseract then uses
that language's model); a page OCR cannot read is listed as a warning, the rest of the document is added.
Text is split into passages that follow the document's structure (Article / Section / § …), and each passage's language
is detected; correct a document's language below if detection got it wrong."""

DIAGNOSTICS_HELP = """A multilingual search engine can prefer some languages: a passage in the query's own language (or in
English) may rank above an equally good translation. These charts measure that bias for your last search and for the
library as a whole."""

TRANSLATIONS_HELP = """Mark documents that are translations of one another (e.g. the English and Swahili versions of the
same act). The Diagnostics tab uses them to measure how far apart a search ranks the versions of the same passage.
Unmarked documents are grouped automatically when their passages match closely across languages."""


def status_line() -> str:
    settings = ui_resources.settings()
    store = ui_resources.get_store()
    documents, chunks, languages = len(store.documents()), store.chunk_count(), len(store.languages())
    plural = ui_html.plural
    spec = ui_resources.library_model_spec()
    state = "ready" if ui_resources.encoder_loaded(spec) else "loads on first use"
    configured = settings.model or "default"
    hint = ""
    if chunks and spec != configured:
        # e.g. a library embedded with the untuned encoder before the fine-tuned default shipped
        hint = (f" · the configured model is **{ui_resources.label_of(configured)}**: re-index the library with it "
                "(Search → More options → Model)")
    return (f"Library: **{plural(documents, 'document')}, {plural(chunks, 'passage')}, {plural(languages, 'language')}** "
            f"(store `{describe_store(settings.store)}`) · "
            f"Model: **{ui_resources.label_of(spec)}** ({state}){hint} · largest PDF accepted: {settings.max_mb:g} MB")


def warm_up(progress: gr.Progress = gr.Progress()) -> str:
    """Load the library's model once at page load, so the first search does not wait for it."""
    from app import ui_errors
    from corpora.errors import PolylexError

    progress(0.0, desc="loading the model (the first start also builds it: about a minute)")
    try:
        ui_resources.get_encoder()
    except PolylexError as exc:  # e.g. a damaged adapter: say so where everyone looks, the page stays up
        return status_line() + "\n\n**The model could not be loaded.** " + ui_errors.message(exc)
    return status_line()


def refresh(langs_selected: list | None, docs_selected: list | None, model_selected: str | None) -> dict[str, object]:
    """Everything that depends on the library's contents, recomputed after any change, keyed by the
    name of the component it goes to (``build`` maps the names to the components)."""
    view = ui_library.library_view()
    lang_values = [lang for lang in langs_selected or [] if lang in {v for _, v in view["lang_filter"]}]
    doc_ids = {v for _, v in view["doc_choices"]}
    doc_values = [d for d in docs_selected or [] if d in doc_ids]
    model_update = ui_search.model_dropdown()
    model_value = model_selected if model_selected in {v for _, v in model_update["choices"]} else model_update["value"]
    model_update["value"] = model_value
    notice, reindex_visible = ui_search.model_notice(model_value)
    return {
        "status": status_line(),
        "demo_box": gr.update(visible=view["empty"]),
        "lang_filter": gr.update(choices=view["lang_filter"], value=lang_values),
        "doc_filter": gr.update(choices=view["doc_choices"], value=doc_values),
        "table": view["table"],
        "chart": view["chart"],
        "totals": view["totals"],
        "doc_pick": gr.update(choices=view["doc_choices"], value=None),
        "set_docs": gr.update(choices=view["doc_choices"], value=[]),
        "model": model_update,
        "model_note": notice,
        "reindex_button": reindex_visible,
    }


with gr.Blocks(title="Polylex: cross-lingual legal search") as demo:
    gr.Markdown(INTRO)
    status = gr.Markdown(elem_id="plx-status")
    with gr.Column(visible=False, elem_classes="plx-demo", elem_id="plx-demo-box") as demo_box:
        gr.Markdown(DEMO_TEXT)
        demo_button = gr.Button("Load the demo library", variant="primary", elem_id="plx-demo-button")
    demo_report = gr.HTML(elem_id="plx-demo-report")
    last_search = gr.State(ui_resources.LastSearch())

    with gr.Tabs():
        with gr.Tab("Search", id="search", elem_id="plx-tab-search"):
            with gr.Row(equal_height=True):
                query = gr.Textbox(label="Your question or keywords, in any language", lines=1, max_lines=4, scale=6,
                                   placeholder="e.g. How long does the landlord have to return the deposit?  /  "
                                               "¿Cuándo se devuelve la fianza?  /  Amana inarudishwa lini?",
                                   elem_id="plx-query")
                query_lang = gr.Dropdown(language_choices(), value=AUTO, label="Query language", scale=2,
                                         min_width=200, elem_id="plx-query-lang-choice")
                search_button = gr.Button("Search", variant="primary", scale=1, min_width=120, elem_id="plx-search")
            query_lang_note = gr.Markdown("Query language: detected when you type (any language works).",
                                          elem_id="plx-query-lang")
            with gr.Row():
                # Choices come from the library at page load; custom values keep the HTTP API (whose
                # sessions never saw those choices) able to pass any language code or document id.
                lang_filter = gr.Dropdown([], multiselect=True, label="Only passages in these languages",
                                          info="Empty: all languages.", allow_custom_value=True,
                                          elem_id="plx-lang-filter")
                doc_filter = gr.Dropdown([], multiselect=True, label="Only these documents",
                                         info="Empty: the whole library.", allow_custom_value=True,
                                         elem_id="plx-doc-filter")
            with gr.Accordion("More options: number of results, exact-word matching, model", open=False):
                with gr.Row():
                    k = gr.Slider(1, 50, value=10, step=1, label="Number of results (k)", elem_id="plx-k")
                    mode = gr.Radio(ui_search.MODE_CHOICES, value="dense", label="Match by", elem_id="plx-mode")
                with gr.Row():
                    model = gr.Dropdown([], label="Model", info="The default encoder, or a model you trained (runs/).",
                                        allow_custom_value=True, elem_id="plx-model")
                    model_note = gr.Markdown(elem_id="plx-model-note")
                reindex_button = gr.Button("Re-index the library with this model", visible=False, size="sm")
            results = gr.HTML(ui_html.note("Results appear here."), elem_id="plx-results")
            with gr.Accordion("See a result on its page", open=True):
                with gr.Row(equal_height=True):
                    page_pick = gr.Dropdown([], label="Result", info="The page as printed, the passage highlighted.",
                                            interactive=False, scale=4, elem_id="plx-page-pick")
                    download = gr.DownloadButton("Download the PDF", visible=False, scale=1, elem_id="plx-download")
                page_caption = gr.Markdown(elem_id="plx-page-caption")
                page_image = gr.Image(type="pil", format="png", interactive=False, show_label=False,
                                      elem_id="plx-page-image")
                other_button = gr.Button("Find this provision in the other languages", size="sm",
                                         elem_id="plx-other-langs")
                other_results = gr.HTML(elem_id="plx-other-langs-results")

        with gr.Tab("Library", id="library", elem_id="plx-tab-library"):
            gr.Markdown(LIBRARY_HELP)
            upload_lang = gr.Dropdown(language_choices(auto_label="Detect for each document"), value=AUTO,
                                      label="Language of the files you add", elem_id="plx-upload-lang",
                                      info="Leave on detection unless all files are in one language you know.")
            files = gr.File(file_count="multiple", label="Add PDFs: drop them here or click to choose",
                            elem_id="plx-upload")
            cancel_button = gr.Button("Cancel adding files", size="sm", variant="stop", elem_id="plx-cancel-upload")
            upload_report = gr.HTML(elem_id="plx-upload-report")
            totals = gr.Markdown(elem_id="plx-totals")
            chart = gr.Plot(show_label=False, elem_id="plx-lang-chart")
            table = gr.Dataframe(label="Documents", interactive=False, wrap=True, elem_id="plx-documents",
                                 column_widths=["5%", "24%", "17%", "13%", "9%", "6%", "8%", "8%", "10%"])
            with gr.Row(equal_height=True):
                doc_pick = gr.Dropdown([], label="Document", elem_id="plx-doc-pick", scale=3)
                doc_lang = gr.Dropdown(language_choices()[1:], value=None, label="Its language", elem_id="plx-doc-lang",
                                       scale=2)
                set_lang_button = gr.Button("Set language", elem_id="plx-set-lang", scale=1)
                delete_button = gr.Button("Delete document", variant="stop", elem_id="plx-delete", scale=1)
            library_message = gr.HTML(elem_id="plx-library-message")
            with gr.Accordion("Translations of one another", open=False):
                gr.Markdown(TRANSLATIONS_HELP)
                with gr.Row(equal_height=True):
                    set_docs = gr.Dropdown([], multiselect=True, label="Documents that are translations of each other",
                                           scale=4, elem_id="plx-set-docs")
                    mark_button = gr.Button("Mark as translations", scale=1, elem_id="plx-mark")
                    unmark_button = gr.Button("Unmark the document chosen above", scale=1)
                translations_message = gr.HTML()

        with gr.Tab("Diagnostics", id="diagnostics", elem_id="plx-tab-diagnostics"):
            gr.Markdown(DIAGNOSTICS_HELP)
            gr.Markdown("### Your last search")
            diag_summary = gr.Markdown(ui_diagnostics.NO_SEARCH, elem_id="plx-diag-summary")
            with gr.Row():
                with gr.Column():
                    shares_plot = gr.Plot(show_label=False, elem_id="plx-shares-plot")
                    shares_text = gr.Markdown(elem_id="plx-shares-text")
                with gr.Column():
                    distance_plot = gr.Plot(show_label=False, elem_id="plx-distance-plot")
                    distance_text = gr.Markdown(elem_id="plx-distance-text")
            gr.Markdown("### The whole library: language × language bias")
            bias_button = gr.Button("Compute the bias matrix of the library (a few seconds)", elem_id="plx-bias")
            bias_plot = gr.Plot(show_label=False, visible=False, elem_id="plx-bias-plot")
            bias_text = gr.Markdown(elem_id="plx-bias-text")

        with gr.Tab("Models", id="models", elem_id="plx-tab-models") as models_tab:
            gr.Markdown("The model turns text into vectors; search ranks passages by how close their vector is to the "
                        "question's. Fine-tuning with *hybrid batches* (same-language and cross-language training "
                        "batches mixed) aims to rank a good answer high whatever its language.")
            models_table = gr.Dataframe(label="Models", interactive=False, wrap=True, elem_id="plx-models",
                                        column_widths=["34%", "10%", "12%", "7%", "8%", "15%", "7%", "7%"])
            model_pick = gr.Dropdown([], label="Show the training card and evaluation report of",
                                     elem_id="plx-model-pick")
            model_report = gr.Markdown(elem_id="plx-model-report")
            gr.Markdown("### Train another model\nRun in a terminal, in the project folder (the second line writes its "
                        "evaluation report, which then appears here):")
            gr.Code(ui_models.train_command(), language="shell", interactive=False, elem_id="plx-train-command")
            if ui_models.cuda_available():
                with gr.Row():
                    train_name = gr.Textbox("hybrid", label="Name (folder under runs/)")
                    train_sets = gr.Textbox("mlqa-r-dev", label="Training data sets (comma-separated)")
                    train_policy = gr.Radio(["hybrid", "xy", "xx"], value="hybrid", label="Batches")
                    train_alpha = gr.Slider(0, 1, value=0.5, step=0.05, label="α (hybrid: share of X-X batches)")
                train_button = gr.Button("Train on this GPU", variant="primary")
                train_log = gr.Code(label="Training log", language="shell", interactive=False)
                train_button.click(ui_models.train_model, [train_name, train_sets, train_policy, train_alpha], train_log,
                                   concurrency_limit=1, concurrency_id="train")
            else:
                gr.Markdown("*No CUDA GPU on this machine: training from the page is off (on a CPU it takes hours). "
                            "On a machine with a GPU a button appears here.*")

    # --- wiring -----------------------------------------------------------------------------------
    settings = ui_resources.settings()
    search_pool = {"concurrency_limit": settings.concurrency, "concurrency_id": "search"}
    write_pool = {"concurrency_limit": 1, "concurrency_id": "write"}
    refresh_inputs = [lang_filter, doc_filter, model]
    refresh_targets = {"status": status, "demo_box": demo_box, "lang_filter": lang_filter, "doc_filter": doc_filter,
                       "table": table, "chart": chart, "totals": totals, "doc_pick": doc_pick, "set_docs": set_docs,
                       "model": model, "model_note": model_note, "reindex_button": reindex_button}
    refresh_outputs = list(refresh_targets.values())

    def refresh_components(langs: list | None, docs: list | None, model_selected: str | None) -> dict:
        # values keyed by component: an output added later is one entry in refresh() and one here
        return {refresh_targets[name]: value for name, value in refresh(langs, docs, model_selected).items()}

    demo.load(refresh_components, refresh_inputs, refresh_outputs, queue=False).then(
        warm_up, None, status, concurrency_id="warm_up", concurrency_limit=1)

    query.change(ui_search.describe_query_language, [query, query_lang], query_lang_note, queue=False,
                 show_progress="hidden", trigger_mode="always_last")
    query_lang.change(ui_search.describe_query_language, [query, query_lang], query_lang_note, queue=False,
                      show_progress="hidden")
    search_inputs = [query, query_lang, k, lang_filter, doc_filter, mode, model]
    search_outputs = [results, query_lang_note, last_search, page_pick]
    diag_outputs = [diag_summary, shares_plot, shares_text, distance_plot, distance_text]
    for trigger, api_name in ((search_button.click, "search"), (query.submit, False)):
        trigger(ui_search.run_search, search_inputs, search_outputs, api_name=api_name, **search_pool).success(
            ui_diagnostics.diagnose_last_search, last_search, diag_outputs, api_name=False, show_progress="hidden",
            **search_pool)
    page_pick.change(ui_pages.show_page, page_pick, [page_image, page_caption, download], **search_pool)
    other_button.click(ui_search.other_languages, page_pick, other_results, api_name="other_languages", **search_pool)
    model.change(ui_search.model_notice, model, [model_note, reindex_button], queue=False, show_progress="hidden")
    reindex_button.click(ui_search.reindex_library, model, results, **write_pool).then(
        refresh_components, refresh_inputs, refresh_outputs)

    # The report replaces the file list (cleared, so the same file can be dropped again); the progress bar
    # shows over both while the batch runs.
    files.upload(ui_library.upload, [files, upload_lang], [upload_report, files], api_name="upload",
                 **write_pool).then(refresh_components, refresh_inputs, refresh_outputs, api_name=False)
    # Outside the queue: it must act while the upload holds the write pool.
    cancel_button.click(ui_library.cancel_upload, None, library_message, queue=False, api_name=False)
    demo_button.click(ui_library.load_demo, None, demo_report, api_name="load_demo", **write_pool).then(
        refresh_components, refresh_inputs, refresh_outputs, api_name=False)
    set_lang_button.click(ui_library.set_language, [doc_pick, doc_lang], library_message, **write_pool).then(
        refresh_components, refresh_inputs, refresh_outputs, api_name=False)
    delete_button.click(ui_library.delete_document, doc_pick, library_message,
                        js=f"(doc) => (doc === null || confirm('Delete this document and its passages from the library?'))"
                           f" ? doc : '{ui_library.CANCELLED}'",
                        **write_pool).then(refresh_components, refresh_inputs, refresh_outputs, api_name=False)
    doc_pick.change(ui_library.language_of, doc_pick, doc_lang, queue=False, show_progress="hidden")
    mark_button.click(ui_library.mark_translations, set_docs, translations_message, **write_pool).then(
        refresh_components, refresh_inputs, refresh_outputs, api_name=False)
    unmark_button.click(ui_library.unmark_translation, doc_pick, translations_message, **write_pool).then(
        refresh_components, refresh_inputs, refresh_outputs, api_name=False)

    bias_button.click(ui_diagnostics.diagnose_library, None, [bias_plot, bias_text], **search_pool)

    models_tab.select(ui_models.models_table, None, models_table, queue=False).then(
        ui_models.model_choices, None, model_pick, queue=False)
    model_pick.change(ui_models.show_model, model_pick, model_report, queue=False)


def launch_kwargs() -> dict:
    """Arguments for ``demo.launch``: address, optional login, page style, upload size limit."""
    settings = ui_resources.settings()
    kwargs: dict = {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        "css": ui_html.CSS,
        # System fonts: the default theme fetches Google Fonts, which an offline or private deployment
        # cannot (or should not) reach.
        "theme": gr.themes.Default(font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
                                   font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]),
        # Gradio refuses bigger uploads before they reach the disk; ingestion refuses the rest in plain words.
        "max_file_size": f"{int(settings.max_mb) + 1}mb",
    }
    if settings.auth:
        user, sep, password = settings.auth.partition(":")
        if not sep or not user or not password:
            raise ValueError("POLYLEX_AUTH must be user:password (both parts non-empty)")
        kwargs["auth"] = (user, password)
        kwargs["auth_message"] = "Polylex: log in with the user name and password you were given."
    return kwargs
