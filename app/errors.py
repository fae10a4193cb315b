"""Errors of the app layer; each message is one line meant for the user.

All derive from :class:`AppError`, a ``corpora.errors.PolylexError``: ``app.cli.main`` turns any
Polylex error into one ``error:`` line and exit code 2.
"""

from __future__ import annotations

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
