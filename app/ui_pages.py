"""Search tab: a hit on its page (the page image with the passage highlighted) and its PDF to download.

The client names a passage by its id among the last results; the file served is the library's own
copy of that passage's document, copied under a safe form of its name into a private temporary
folder of this process (Gradio serves files from there), never a path the client sent.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from app import ui_errors, ui_html, ui_resources


@functools.cache
def _downloads() -> Path:
    """A folder only this process can read (mode 0700, unpredictable name) under the temporary
    folder, which Gradio serves from."""
    return Path(tempfile.mkdtemp(prefix="polylex-downloads-"))


def download_name(file: str) -> str:
    """The stored file name, safe as one path component and in an HTTP header: no folders, no control
    characters, no leading dots; ``document.pdf`` when nothing is left."""
    name = "".join(ch if ch.isprintable() and ch not in '/\\:"' else "_" for ch in file.rsplit("/", 1)[-1])
    name = name.lstrip(". ").strip()[:150]
    return name if name.lower().endswith(".pdf") and len(name) > 4 else (name or "document") + ".pdf"


def page_choices(hits: list) -> dict:
    """The dropdown of the last results, ``"1. law-sw.pdf, page 3"``, nothing chosen."""
    choices = [(f"{rank}. {hit.file}, page {hit.page}" + (" (OCR)" if hit.ocr_conf is not None else ""), hit.chunk_id)
               for rank, hit in enumerate(hits, start=1)]
    return gr.update(choices=choices, value=None, interactive=bool(choices))


def show_page(chunk_id: object) -> tuple[object, str, object]:
    """The page image with the hit highlighted, its caption, and the download button's file."""
    from app.page_view import PageViewError, hit_on_page

    if chunk_id in (None, "", []):
        return None, "", gr.update(value=None, visible=False)
    try:
        chunk = int(chunk_id)
    except (TypeError, ValueError) as exc:
        raise ui_errors.refusal(f"Results are chosen by their passage id (a number), got {chunk_id!r}.") from exc
    store = ui_resources.get_store()
    try:
        view = hit_on_page(store, chunk)
    except PageViewError as exc:
        raise ui_errors.refusal(str(exc)) from exc
    row = store.fetch_chunks([chunk])[chunk]
    original = store.original_file(row["doc_id"])
    download = gr.update(value=None, visible=False)
    if original is not None:
        # one folder per document (its hash) in this process's private folder, reused
        copy = _downloads() / original.stem / download_name(row["file"])
        if not copy.is_file():
            copy.parent.mkdir(mode=0o700, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=copy.parent, suffix=".partial", delete=False) as partial:
                shutil.copyfileobj(original.open("rb"), partial)
            os.replace(partial.name, copy)
        download = gr.update(value=str(copy), visible=True, label=f"Download {copy.name}")
    caption = ui_html.esc(view.caption) + ("" if not view.boxes else " — the passage is highlighted")
    return view.image, caption, download
