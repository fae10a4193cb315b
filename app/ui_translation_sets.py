"""Translation sets the user marked: documents that are translations of one another.

The store has no table for them, so they live beside it in ``<store>/translation_sets.json``
(``{"sets": [[doc_id, ...], ...]}``), written atomically. Documents deleted since are dropped on
read, and a set left with fewer than two documents disappears. ``app.diagnostics`` takes these
sets as given and detects the others by cross-lingual similarity of the chunks.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

FILE_NAME = "translation_sets.json"
_lock = threading.Lock()


def _path(store: object) -> Path:
    return Path(store.folder) / FILE_NAME


def load_sets(store: object) -> list[list[int]]:
    """The marked sets, restricted to documents still in the store; each sorted, at least two long."""
    path = _path(store)
    try:
        raw = json.loads(path.read_text(encoding="utf-8")).get("sets", [])
    except (OSError, ValueError, AttributeError):
        return []
    existing = {d.id for d in store.documents()}
    sets = []
    for members in raw:
        kept = sorted({int(m) for m in members if int(m) in existing})
        if len(kept) >= 2:
            sets.append(kept)
    return sets


def _write(store: object, sets: list[list[int]]) -> None:
    path = _path(store)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"sets": sets}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def mark_set(store: object, doc_ids: list[int]) -> list[list[int]]:
    """Mark ``doc_ids`` as translations of each other; sets sharing a document merge into one.

    Raises:
        ValueError: fewer than two documents.
    """
    new = {int(d) for d in doc_ids}
    if len(new) < 2:
        raise ValueError(f"a translation set needs at least two documents, got {sorted(new)}")
    with _lock:
        sets = [set(s) for s in load_sets(store)]
        merged = set(new)
        rest = []
        for members in sets:
            if members & merged:
                merged |= members
            else:
                rest.append(members)
        result = sorted([sorted(merged), *(sorted(s) for s in rest)])
        _write(store, result)
        return result


def unmark(store: object, doc_id: int) -> list[list[int]]:
    """Take ``doc_id`` out of its set (a set left with one document disappears)."""
    with _lock:
        sets = [[d for d in members if d != int(doc_id)] for members in load_sets(store)]
        result = [members for members in sets if len(members) >= 2]
        _write(store, result)
        return result
