"""The language-ID model that ships with Polylex: ``models/langid/ngram.npz`` and its card.

Every install loads this file, whether or not it has the data folder, so that language ID gives
the same answers everywhere. The card (``card.json``) records the recipe, the data and their
licences, the sha256 of the file and the figures; the file is checked against that sha256 once
per process. ``python -m app.langid.build`` (``make langid``) writes both.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from app.errors import ShippedFileError
from app.langid.ngram import NgramModel
from trainer.adapters import sha256_of  # the one file hasher of the shipped models

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "langid"
MODEL_FILE = "ngram.npz"
CARD_FILE = "card.json"
REBUILD = "make langid (python -m app.langid.build; needs the data folder)"

_LOCK = threading.Lock()
_LOADED: dict[Path, NgramModel] = {}


def read_card(folder: Path | None = None) -> dict[str, Any]:
    """The card of the model in ``folder`` (default ``MODEL_DIR``); raises ``ShippedFileError`` when missing or unreadable."""
    path = (folder or MODEL_DIR) / CARD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ShippedFileError(f"language-ID card {path} cannot be read ({exc}); rebuild it with {REBUILD}") from exc


def load_shipped(folder: Path | None = None) -> NgramModel:
    """The classifier in ``folder`` (default ``MODEL_DIR``), checked against its card's sha256; loaded once per process.

    Raises:
        ShippedFileError: the file or its card is missing, or the file is not the one the card describes.
    """
    folder = (folder or MODEL_DIR).resolve()
    with _LOCK:
        if folder not in _LOADED:
            card = read_card(folder)
            path = folder / MODEL_FILE
            if not path.is_file():
                raise ShippedFileError(f"language-ID model {path} is missing; rebuild it with {REBUILD}")
            digest = sha256_of(path)
            if digest != card.get("sha256"):
                raise ShippedFileError(
                    f"language-ID model {path} has sha256 {digest[:12]}..., its card says "
                    f"{str(card.get('sha256'))[:12]}...: the file was changed or truncated; restore it "
                    f"(git checkout -- models/langid/{MODEL_FILE}) or rebuild it with {REBUILD}"
                )
            _LOADED[folder] = NgramModel.load(path)
        return _LOADED[folder]
