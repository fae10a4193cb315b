"""Reading data files, once per process.

Parsed files are cached with ``functools.lru_cache`` keyed on the resolved path, so a trainer that
loads pairs and then a benchmark from the same files parses them once. Callers must not mutate
what these functions return.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from corpora.errors import DataError
from corpora.settings import get_settings


class DataNotFound(DataError, FileNotFoundError):
    """A data set folder or file is absent; the message says where it was looked for."""


def data_root(data_dir: str | Path | None = None) -> Path:
    """The data folder: ``data_dir`` if given, else ``get_settings().data`` (``POLYLEX_DATA``)."""
    return Path(data_dir) if data_dir is not None else get_settings().data


def require(path: Path, what: str) -> Path:
    """Return ``path`` if it exists, else raise ``DataNotFound`` naming ``what`` and the path."""
    if not path.exists():
        raise DataNotFound(f"{what} not found at {path} (set POLYLEX_DATA or pass data_dir)")
    return path


def read_json(path: Path) -> Any:
    return _read_json(str(Path(path).resolve()))


def read_json_lines(path: Path) -> list[dict]:
    """One JSON object per non-blank line (AfriQA's ``.json`` files are JSON lines)."""
    return _read_json_lines(str(Path(path).resolve()))


def read_text_lines(path: Path) -> list[str]:
    """Lines of a text file (gzip when the name ends in ``.gz``), without line ends."""
    return _read_text_lines(str(Path(path).resolve()))


@lru_cache(maxsize=128)
def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=128)
def _read_json_lines(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@lru_cache(maxsize=128)
def _read_text_lines(path: str) -> list[str]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()
