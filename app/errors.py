"""Errors of the app layer; each message is one line meant for the user.

All derive from :class:`AppError`, a ``corpora.errors.PolylexError``: ``app.cli.main`` turns any
Polylex error into one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

from corpora.errors import PolylexError


class AppError(PolylexError):
    """Base class of the app layer's errors: files, store, models."""


class RefusedFile(AppError, ValueError):
    """A file ingestion will not take: not a PDF, corrupt, encrypted, scanned, empty, too big."""


class ModelMismatch(AppError, ValueError):
    """The store's embeddings come from another model than the encoder at hand."""


class StoreError(AppError, RuntimeError):
    """The store folder cannot be used (e.g. a newer schema, or not a Polylex store)."""


class ShippedFileError(AppError, RuntimeError):
    """A file that ships with Polylex (the language-ID model) is missing or differs from its card."""


class NotInLibrary(AppError, KeyError):
    """A document, passage or translation set asked for by id is not in the library (perhaps deleted
    by another user meanwhile). A ``KeyError`` too: a failed lookup, which callers may treat as one.

    ``str()`` is the plain sentence ("no document with id 7"), not ``KeyError``'s quoted repr; the
    page's wording is ``app.ui_errors.message``'s.
    """

    def __init__(self, kind: str, ids: int | Iterable[int], *, holding: int | None = None) -> None:
        self.kind = kind  # "document", "passage" or "translation set"
        self.ids = tuple(map(operator.index, ids)) if isinstance(ids, Iterable) else (operator.index(ids),)
        self.holding = holding  # the document a translation set was expected to hold
        text = f"no {kind} with id {', '.join(map(str, self.ids))}"
        super().__init__(text + (f" holding document {holding}" if holding is not None else ""))

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple:
        # BaseException pickles as type(self)(*self.args), which would pass the sentence as ``kind``:
        # rebuild from the fields instead, so the error survives multiprocessing or a process pool.
        return (functools.partial(type(self), holding=self.holding), (self.kind, self.ids))
