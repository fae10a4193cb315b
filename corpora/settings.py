"""The one settings object of Polylex, read from ``POLYLEX_*`` environment variables.

It lives in ``corpora`` because that is the lowest layer: ``trainer`` and ``app`` import it
from here, so every command and the UI agree on where data, cache, store and model are.
CLI flags override a field with ``dataclasses.replace(settings, field=value)``.
The README's Configuration table documents every field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: str | Path) -> Path:
    return Path(os.path.expanduser(os.environ.get(name) or str(default)))


def _store_spec(value: str | Path) -> str:
    """A folder (``~`` expanded) or a database URL, kept as given (``Path`` would fold its ``//``)."""
    value = str(value)
    return value if value.startswith(("postgresql://", "postgres://")) else os.path.expanduser(value)


@dataclass(frozen=True)
class Settings:
    """Where things live and how big they may be.

    Args:
        data: folder with the public data sets (``POLYLEX_DATA``, default ``../shared/data``).
        cache: converted default encoder and embedding caches (``POLYLEX_CACHE``, default ``~/.cache/polylex``).
        store: the app's library: a folder (SQLite + FAISS) or a ``postgresql://`` URL (PostgreSQL
            with pgvector, shared by several app processes) (``POLYLEX_STORE``, default ``./polylex-store``).
        model: ``default``, a model folder, or a hub id (``POLYLEX_MODEL``).
        max_mb: largest PDF accepted, in MiB (``POLYLEX_MAX_MB``, default 100).
        auth: ``user:password`` to require a login in the UI, or empty (``POLYLEX_AUTH``).
        concurrency: searches the UI runs at once (``POLYLEX_CONCURRENCY``, default 4).
        runs: folder where trained models are written and looked for (``POLYLEX_RUNS``, default ``./runs``).
        threads: torch CPU threads for encoding (``POLYLEX_THREADS``; 0 = torch's default, all cores).
            On a machine shared with other busy processes, 1 avoids thread oversubscription
            (measured here: one query took 1.1 s with 2 threads under load, 70 ms with 1).
        ocr: ``auto`` reads pages without a usable text layer with Tesseract; ``off`` refuses
            image-only PDFs as before (``POLYLEX_OCR``, default ``auto``).
        ocr_dpi: resolution scanned pages are rendered at for OCR (``POLYLEX_OCR_DPI``, default 300).
        ocr_timeout: seconds Tesseract may spend on one page before the page is skipped with a
            warning (``POLYLEX_OCR_TIMEOUT``, default 120).
        max_image_mpx: largest image inside a PDF that is decoded, in megapixels; a larger one
            (or a decompression bomb declaring one) leaves its page unread with that reason
            (``POLYLEX_MAX_IMAGE_MPX``, default 150: a 600-dpi A3 scan is 70).
        max_pages: most pages a PDF may have (``POLYLEX_MAX_PAGES``, default 5000).
        max_passages: most passages one document may give (``POLYLEX_MAX_PASSAGES``, default 20000).
        max_text_mb: most text one PDF may hold, in MiB of UTF-8 (``POLYLEX_MAX_TEXT_MB``, default 50:
            a 5,000-page statute book has about 15).
        file_timeout: seconds reading one file (text and OCR) may take in its worker process
            (``POLYLEX_FILE_TIMEOUT``, default 3600).
        file_memory_mb: memory the worker reading one file may use, in MiB
            (``POLYLEX_FILE_MEMORY_MB``, default 2048).
    """

    data: Path = field(default_factory=lambda: _env_path("POLYLEX_DATA", _REPO_ROOT.parent / "shared" / "data"))
    cache: Path = field(default_factory=lambda: _env_path("POLYLEX_CACHE", "~/.cache/polylex"))
    store: str = field(default_factory=lambda: _store_spec(os.environ.get("POLYLEX_STORE") or "./polylex-store"))
    model: str = field(default_factory=lambda: os.environ.get("POLYLEX_MODEL") or "default")
    max_mb: float = field(default_factory=lambda: float(os.environ.get("POLYLEX_MAX_MB") or 100))
    auth: str = field(default_factory=lambda: os.environ.get("POLYLEX_AUTH") or "")
    concurrency: int = field(default_factory=lambda: int(os.environ.get("POLYLEX_CONCURRENCY") or 4))
    runs: Path = field(default_factory=lambda: _env_path("POLYLEX_RUNS", "./runs"))
    threads: int = field(default_factory=lambda: int(os.environ.get("POLYLEX_THREADS") or 0))
    ocr: str = field(default_factory=lambda: os.environ.get("POLYLEX_OCR") or "auto")
    ocr_dpi: int = field(default_factory=lambda: int(os.environ.get("POLYLEX_OCR_DPI") or 300))
    ocr_timeout: float = field(default_factory=lambda: float(os.environ.get("POLYLEX_OCR_TIMEOUT") or 120))
    max_image_mpx: float = field(default_factory=lambda: float(os.environ.get("POLYLEX_MAX_IMAGE_MPX") or 150))
    max_pages: int = field(default_factory=lambda: int(os.environ.get("POLYLEX_MAX_PAGES") or 5000))
    max_passages: int = field(default_factory=lambda: int(os.environ.get("POLYLEX_MAX_PASSAGES") or 20000))
    max_text_mb: float = field(default_factory=lambda: float(os.environ.get("POLYLEX_MAX_TEXT_MB") or 50))
    file_timeout: float = field(default_factory=lambda: float(os.environ.get("POLYLEX_FILE_TIMEOUT") or 3600))
    file_memory_mb: float = field(default_factory=lambda: float(os.environ.get("POLYLEX_FILE_MEMORY_MB") or 2048))

    def with_overrides(self, **values: object) -> Settings:
        """Return a copy with the given fields replaced; ``None`` values are ignored (unset CLI flags)."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; valid: {sorted(known)}")
        clean = {k: (Path(v) if isinstance(getattr(self, k), Path) else _store_spec(v) if k == "store" else v)
                 for k, v in values.items() if v is not None}
        return replace(self, **clean)


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. parsed CLI flags) on top."""
    return Settings().with_overrides(**overrides)
