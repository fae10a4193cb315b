"""Polylex errors as the browser shows them: one place that turns a ``PolylexError`` into a sentence.

The command line prints an error's own message (it may name flags and environment variables); the
page must not ask a lawyer to pass CLI flags, so errors whose remedy differs in the browser get
their own wording here.
"""

from __future__ import annotations

import gradio as gr

from app.errors import ModelMismatch, NotInLibrary
from corpora.errors import PolylexError


def refusal(text: str) -> gr.Error:
    """What a handler raises to refuse a request with ``text`` in the page.

    A refusal is the app working as meant (an empty query, a document another user deleted), not a
    crash: Gradio would print each one's traceback to the server log, where it would hide real ones.
    """
    return gr.Error(text, print_exception=False)


def message(exc: PolylexError) -> str:
    """The sentence the page shows for ``exc``."""
    from trainer.adapters import AdapterError
    from trainer.encoder import EncoderNotFound

    if isinstance(exc, AdapterError):
        return ("This model's fine-tuned adapter cannot be used: its files are missing or damaged "
                f"({str(exc).split(';')[0]}). Choose “Base” under Search → More options → Model to search with "
                "the untuned encoder, and ask whoever runs this server to restore or rebuild the adapter.")
    if isinstance(exc, EncoderNotFound):
        return f"This model cannot be opened: {exc}. Choose another under Search → More options → Model."
    if isinstance(exc, ModelMismatch):
        return (f"The library's passages were encoded with another model ({exc}). Re-index the library with this "
                "model (Search → More options → Model), or choose the library's model.")
    if isinstance(exc, NotInLibrary):
        return _not_in_library(exc)
    return str(exc)


def _not_in_library(exc: NotInLibrary) -> str:
    # Most often another user (or tab) deleted it between the list being drawn and the click.
    ids = ", ".join(map(str, exc.ids))
    if exc.kind == "passage":
        return f"Passage {ids} is not in the library any more (its document was deleted?). Search again."
    if exc.kind == "translation set":
        if exc.holding is not None:
            return (f"Document {exc.holding} is no longer in that translation set (changed elsewhere?). "
                    "Reload the list.")
        return "That translation set is not in the library any more (unmarked elsewhere?). Reload the list."
    noun = "Document" if len(exc.ids) == 1 else "Documents"
    verb = "is" if len(exc.ids) == 1 else "are"
    return f"{noun} {ids} {verb} not in the library any more (deleted elsewhere?). Reload the list."
