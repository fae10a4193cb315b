"""What every UI handler shares: the open store and the loaded encoders, each created once.

Gradio runs handlers in worker threads, so both are lazy singletons behind a lock: the first
search (or upload) loads the encoder, later ones reuse it. ``Store`` is thread-safe by itself.
Settings are read from the environment on each call (``POLYLEX_*``), so a test can point the app
at a temporary store before the first request.

Models: the library's embeddings belong to one model (``Store.model_id``); searching needs that
same model. ``model_options`` lists the default model (base encoder + the shipped fine-tuned
adapter), the untuned base encoder and every trained folder under ``settings.runs`` (a folder with
``training_card.json``), and ``library_model_spec`` says which of them the library is indexed with.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpora.settings import Settings, get_settings
from trainer.adapters import is_adapter_id

DEFAULT_LABEL = "Default: multilingual-e5-small + Polylex's fine-tuned adapter (less language bias)"
BASE_LABEL = "Base: multilingual-e5-small, not fine-tuned"

AUTO = "auto"  # the language dropdowns' "detect it" choice


@dataclass
class LastSearch:
    """What the Diagnostics tab needs from the most recent search of this browser session."""

    query: str = ""
    query_lang: str = ""
    model: str = ""
    chunk_ids: list[int] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    k: int = 0
    query_vector: np.ndarray | None = None  # as the search used it: diagnostics reuse it


_lock = threading.Lock()
_stores: dict[str, Any] = {}
_encoders: dict[str, Any] = {}
_encoder_locks: dict[str, threading.Lock] = {}


def settings() -> Settings:
    return get_settings()


def get_store() -> Any:
    """The open store of ``POLYLEX_STORE`` (opened, and repaired if needed, on first use)."""
    from app.store_open import open_store, store_key

    current = settings()
    key = store_key(current.store)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = open_store(current.store, cache=current.cache)
        return store


def get_encoder(spec: str | None = None) -> Any:
    """The encoder for ``spec`` (default: the library's model), loaded once per spec."""
    from trainer.encoder import load_encoder

    spec = spec or library_model_spec()
    with _lock:
        spec_lock = _encoder_locks.setdefault(spec, threading.Lock())
    with spec_lock:  # one load per spec; other specs and searches with loaded models go on
        if spec not in _encoders:
            _encoders[spec] = load_encoder(spec, settings=settings())
        return _encoders[spec]


def encoder_loaded(spec: str) -> bool:
    return spec in _encoders


@dataclass(frozen=True)
class ModelOption:
    """A model the UI offers: ``spec`` for ``load_encoder``, a readable ``label``, its training card."""

    spec: str
    label: str
    folder: Path | None
    card: dict | None


def trained_models(runs: Path | None = None) -> list[ModelOption]:
    """Every folder under ``runs`` (one level down, or two: ``runs/group/NAME``) with a training card."""
    from trainer.card import CARD_NAME, read_card

    runs = (runs or settings().runs).expanduser()
    if not runs.is_dir():
        return []
    options = []
    for card_path in sorted({*runs.glob(f"*/{CARD_NAME}"), *runs.glob(f"*/*/{CARD_NAME}")}):
        folder = card_path.parent
        try:
            card = read_card(folder)
        except (OSError, ValueError):
            card = None
        options.append(ModelOption(str(folder), _label(folder, runs, card), folder, card))
    return options


def _label(folder: Path, runs: Path, card: dict | None) -> str:
    from trainer.card import TrainingCard

    name = str(folder.relative_to(runs))
    if not card:
        return f"{name} (trained; card unreadable)"
    return f"{name} ({TrainingCard.from_dict(card).label})"


def model_options() -> list[ModelOption]:
    from trainer.card import read_card
    from trainer.encoder import SHIPPED_ADAPTER

    configured = settings().model
    try:
        shipped_card = read_card(SHIPPED_ADAPTER)
    except (OSError, ValueError):
        shipped_card = None
    options = [ModelOption("default", DEFAULT_LABEL, SHIPPED_ADAPTER, shipped_card),
               ModelOption("base", BASE_LABEL, None, None)]
    if configured not in ("", "default", "base") and not Path(configured).expanduser().is_dir():
        options.append(ModelOption(configured, f"{configured} (POLYLEX_MODEL)", None, None))
    for option in trained_models():
        options.append(option)
    configured_dir = Path(configured).expanduser()
    if configured_dir.is_dir() and all(o.folder is None or o.folder.resolve() != configured_dir.resolve() for o in options):
        options.append(ModelOption(configured, f"{configured} (POLYLEX_MODEL)", configured_dir, None))
    return options


def spec_matches_model_id(spec: str, model_id: str | None) -> bool:
    """Whether ``spec`` names the model whose embeddings carry ``model_id``.

    Adapters (``default`` included) must match exactly: they share their base's folder. Full model
    folders match on the folder alone: a retrained folder is caught by the store's own check when
    searching.
    """
    if not model_id:
        return False
    from trainer.encoder import spec_id

    expected = spec_id(spec, settings())
    if expected is None:
        return model_id.split("@", 1)[0] == spec  # a hub id
    if is_adapter_id(expected) or is_adapter_id(model_id):
        return expected == model_id
    return expected.split("@", 1)[0] == model_id.split("@", 1)[0]


def library_model_spec() -> str:
    """The spec of the model the library is indexed with; ``POLYLEX_MODEL`` for an empty library."""
    configured = settings().model or "default"
    store = get_store()
    stored = store.model_id if store.chunk_count() else None
    if not stored or spec_matches_model_id(configured, stored):
        return configured
    for option in model_options():
        if spec_matches_model_id(option.spec, stored):
            return option.spec
    if is_adapter_id(stored):
        # an adapter no longer here (e.g. an older shipped default): searching says to re-index
        return configured
    return stored.split("@", 1)[0]  # a folder no longer under runs/, or a hub id


def label_of(spec: str) -> str:
    for option in model_options():
        if option.spec == spec:
            return option.label
    return spec
