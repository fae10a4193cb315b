"""Translation sets the user marked: documents that are translations of one another.

They live in the store (``Store.mark_translation_set`` and friends; SQLite is the source of truth);
these are the UI's shorthands, each returning every set afterwards. Earlier versions kept the sets
beside the store in ``<store>/translation_sets.json``: such a file is imported into the store the
first time it is seen and renamed ``translation_sets.json.imported``, so nothing marked is lost.
``app.diagnostics`` takes these sets as given and detects the others by cross-lingual similarity of
the chunks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from pathlib import Path

FILE_NAME = "translation_sets.json"
_lock = threading.Lock()
log = logging.getLogger(__name__)


def import_json_sets(store: object) -> int:
    """Move the sets of an old ``translation_sets.json`` (``{"sets": [[doc_id, ...], ...]}``) into the
    store, restricted to documents still there; returns the number of sets imported (0 without a file)."""
    path = Path(store.folder) / FILE_NAME
    with _lock:
        if not path.exists():
            return 0
        try:
            raw = json.loads(path.read_text(encoding="utf-8")).get("sets", [])
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            raw = []
        existing = {d.id for d in store.documents()}
        imported = 0
        for members in raw:
            kept = sorted({int(m) for m in members if int(m) in existing})
            if len(kept) >= 2:
                store.mark_translation_set(kept)
                imported += 1
        os.replace(path, path.with_name(FILE_NAME + ".imported"))
        return imported


def load_sets(store: object) -> list[list[int]]:
    """The marked sets, each sorted and at least two documents long."""
    import_json_sets(store)
    return store.translation_sets()


def mark_set(store: object, doc_ids: list[int]) -> list[list[int]]:
    """Mark ``doc_ids`` as translations of each other; sets sharing a document merge into one.

    Raises:
        ValueError: fewer than two documents.
        KeyError: a document not in the store.
    """
    import_json_sets(store)
    store.mark_translation_set(doc_ids)
    return store.translation_sets()


def unmark(store: object, doc_id: int) -> list[list[int]]:
    """Take ``doc_id`` out of its set (a set left with one document disappears); no-op outside any set."""
    import_json_sets(store)
    set_id = store.translation_set_of(int(doc_id))
    if set_id is not None:
        with contextlib.suppress(KeyError):  # unmarked meanwhile, from another tab or process
            store.unmark_translation_set(set_id, doc_id=int(doc_id))
    return store.translation_sets()
