"""Translation sets the user marked: documents that are translations of one another.

They live in the store (``Store.mark_translation_set`` and friends; SQLite is the source of truth);
these are the UI's shorthands, each returning every set afterwards. (Earlier versions kept the sets
beside the store in ``translation_sets.json``; ``Store.open`` imports such a file once.)
``app.diagnostics`` takes these sets as given and detects the others by cross-lingual similarity of
the chunks.
"""

from __future__ import annotations

import contextlib

from app.errors import NotInLibrary
from app.store_protocol import StoreBackend


def load_sets(store: StoreBackend) -> list[list[int]]:
    """The marked sets, each sorted and at least two documents long."""
    return store.translation_sets()


def mark_set(store: StoreBackend, doc_ids: list[int]) -> list[list[int]]:
    """Mark ``doc_ids`` as translations of each other; sets sharing a document merge into one.

    Raises:
        ValueError: fewer than two documents.
        NotInLibrary: a document not in the store (a ``KeyError``).
    """
    store.mark_translation_set(doc_ids)
    return store.translation_sets()


def unmark(store: StoreBackend, doc_id: int) -> list[list[int]]:
    """Take ``doc_id`` out of its set (a set left with one document disappears); no-op outside any set."""
    set_id = store.translation_set_of(int(doc_id))
    if set_id is not None:
        with contextlib.suppress(NotInLibrary):  # unmarked meanwhile, from another tab or process
            store.unmark_translation_set(set_id, doc_id=int(doc_id))
    return store.translation_sets()
