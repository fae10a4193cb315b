"""Errors of the app layer; each message is one line meant for the user."""

from __future__ import annotations


class RefusedFile(ValueError):
    """A file ingestion will not take: not a PDF, corrupt, encrypted, scanned, empty, too big."""


class ModelMismatch(ValueError):
    """The store's embeddings come from another model than the encoder at hand."""


class StoreError(RuntimeError):
    """The store folder cannot be used (e.g. a newer schema, or not a Polylex store)."""
