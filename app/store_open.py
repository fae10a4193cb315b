"""Open the store that ``POLYLEX_STORE`` names: a folder (SQLite + FAISS) or a PostgreSQL URL.

The one place that chooses a backend; everything after it sees a :class:`StoreBackend`.

Example::

    >>> store = open_store("postgresql://polylex@db.example/polylex", cache=Path("~/.cache/polylex"))
    >>> type(store).__name__
    'PgStore'
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from app.store_protocol import StoreBackend

__all__ = ["describe_store", "is_database_url", "open_store", "store_key"]

SCHEMES = ("postgresql://", "postgres://")


def is_database_url(spec: str | Path) -> bool:
    return isinstance(spec, str) and spec.startswith(SCHEMES)


def store_key(spec: str | Path) -> str:
    """One key per library: the URL as given, or the folder's absolute path."""
    return str(spec) if is_database_url(spec) else str(Path(os.path.expanduser(str(spec))).resolve())


def describe_store(spec: str | Path) -> str:
    """The store for people: a folder as given, a URL without its password."""
    if is_database_url(spec):
        from app.store_pg import redact

        return redact(str(spec))
    return str(spec)


def open_store(spec: str | Path, *, cache: Path) -> StoreBackend:
    """Open the library ``spec`` names. A PostgreSQL library keeps its local working files (rendered
    pages, fetched originals) under ``cache/stores/<hash of the URL>``."""
    if is_database_url(spec):
        from app.store_pg import PgStore

        folder = Path(os.path.expanduser(str(cache))) / "stores" / hashlib.sha256(str(spec).encode()).hexdigest()[:16]
        return PgStore.open(str(spec), folder=folder)
    from app.store import Store

    return Store.open(Path(os.path.expanduser(str(spec))))
