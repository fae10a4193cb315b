"""What the app needs of a store, as a ``typing.Protocol``, and the row types that cross it.

``app.store.Store`` (SQLite + FAISS, the embedded default) is one backend; another (PostgreSQL +
pgvector) is a module of its own implementing :class:`StoreBackend`, not a branch inside
``app.store``. The members are those that ``app.ingest``, ``app.search``, ``app.cli``,
``app.diagnostics``, ``app.ui*`` and ``app.demo_corpus`` call; opening a store is each backend's
own classmethod (``Store.open(folder)``). The row types live here so that a backend needs nothing
of another; ``app.store`` re-exports them, where callers import them from.

Example::

    >>> def library_size(store: StoreBackend) -> int:
    ...     return store.chunk_count()
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


def text_key(text: str) -> str:
    """The hash a passage's text is found by (``known_embeddings``): sha256 of its UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    id: int
    sha256: str
    text_sha256: str
    file: str
    title: str
    lang: str
    lang_source: str  # "detected" or "user"
    pages: int
    chunks: int
    bytes: int
    added: str
    model: str


@dataclass(frozen=True)
class NewChunk:
    """A chunk ready to store; ``embedding`` is a normalised float32 vector."""

    seq: int
    page: int
    page_end: int
    heading: str | None
    lang: str
    text: str
    embedding: np.ndarray
    ocr_conf: float | None = None  # Tesseract's mean word confidence (0-100) when the text was read by OCR


@dataclass(frozen=True)
class OcrPageRecord:
    """A page read by OCR, as stored: its words are ``[text, x0, y0, x1, y1, conf, line]`` with the box in
    fractions of the page (origin top left), for showing a hit on its page."""

    page: int
    confidence: float
    models: str
    note: str
    words: list[list]


@dataclass
class DoctorReport:
    """What ``doctor`` found (``problems``) and what it did about it (``repaired``)."""

    ok: bool
    documents: int
    chunks: int
    model: str | None
    index: str
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CorpusEmbeddings:
    """All chunk embeddings with their labels (for diagnostics): row i of ``vectors`` (n, dim)
    is chunk ``ids[i]`` of document ``doc_ids[i]`` in language ``langs[i]``."""

    ids: np.ndarray
    doc_ids: np.ndarray
    langs: list[str]
    vectors: np.ndarray


# --- logic both backends share (plain functions over the rows each reads its own way) ---------------------


def match_documents(docs: Sequence[Document], key: str) -> list[Document]:
    """Documents matching ``key``: an id, a file name, or a prefix (>= 6) of the content hash."""
    if key.isdigit():
        return [d for d in docs if d.id == int(key)]
    exact = [d for d in docs if d.file == key or d.sha256 == key]
    if exact:
        return exact
    return [d for d in docs if len(key) >= 6 and d.sha256.startswith(key.lower())]


def group_sets(rows: Sequence[tuple[int, int]]) -> list[list[int]]:
    """``(set_id, doc_id)`` rows (ordered by doc id) as the sets of at least two documents, sorted."""
    sets: dict[int, list[int]] = {}
    for set_id, doc_id in rows:
        sets.setdefault(set_id, []).append(doc_id)
    return sorted(members for members in sets.values() if len(members) >= 2)


def require_model(stored: str | None, stored_dim: int | None, has_chunks: bool, model_id: str, dim: int) -> None:
    """Raise ``ModelMismatch`` unless embeddings of ``model_id`` (``dim``) may join a store holding
    ``stored`` (``stored_dim``); an empty store takes any model."""
    from app.errors import ModelMismatch
    from trainer.adapters import is_adapter_id

    if stored is None or not has_chunks:
        return
    if stored != model_id:
        hint = "an adapter model (e.g. an older default)" if is_adapter_id(stored) else "a full model folder (e.g. `base`, the untuned encoder)"
        raise ModelMismatch(f"the store holds embeddings of model {stored!r} ({hint}), not {model_id!r}: search with "
                            "the store's model (--model), or re-embed everything with the one you want, e.g. "
                            "`python -m app reindex --model default`")
    if stored_dim is not None and int(stored_dim) != dim:
        raise ModelMismatch(f"the store holds {stored_dim}-d embeddings, the model gives {dim}-d; reindex first")


@runtime_checkable
class StoreBackend(Protocol):
    """An open store: documents, chunks with embeddings, their vector search, translation sets.

    Writes are transactional (a failed write leaves nothing behind); a backend is thread-safe,
    since the UI searches from several threads while an ingest writes. :class:`app.errors.NotInLibrary`
    (a ``KeyError``) means no such document or set, ``ValueError`` a refused argument,
    :class:`app.errors.ModelMismatch` embeddings of another model, :class:`app.errors.StoreError` a
    store that cannot be used.
    """

    folder: Path
    """Where the store keeps its files (the UI keeps a few of its own beside them)."""

    @property
    def model_id(self) -> str | None:
        """The model whose embeddings the store holds (None while empty of any)."""
        ...

    # --- state ---------------------------------------------------------------------------------

    def generation(self) -> int:
        """Bumped by every write of documents or embeddings: caches of the corpus key on it."""
        ...

    def labels_revision(self) -> int:
        """Bumped by every language correction (which keeps the embeddings and the generation)."""
        ...

    def check_model(self, model_id: str, dim: int) -> None:
        """Raise ``ModelMismatch`` unless embeddings of ``model_id`` (``dim``) may be added or searched."""
        ...

    def chunk_count(self) -> int: ...

    def languages(self) -> dict[str, int]:
        """Chunks per language, most frequent first."""
        ...

    def index_description(self) -> str:
        """One line naming the vector index and its size, for people."""
        ...

    def stats(self) -> dict: ...

    def doctor(self, *, repair: bool = True) -> DoctorReport:
        """Check the store's parts against each other; with ``repair``, rebuild what is derived."""
        ...

    # --- documents and chunks --------------------------------------------------------------------

    def documents(self) -> list[Document]: ...

    def document(self, doc_id: int) -> Document | None: ...

    def find_documents(self, key: str) -> list[Document]:
        """Documents matching ``key``: an id, a file name, or a prefix (>= 6) of the content hash."""
        ...

    def by_hash(self, sha256: str) -> Document | None: ...

    def by_text_hash(self, text_sha256: str) -> Document | None: ...

    def fetch_chunks(self, ids: list[int]) -> dict[int, dict]:
        """Chunk rows (with their document's file and title, without the embedding) by id; ``ocr_conf``
        is None for text from the PDF's text layer."""
        ...

    def embeddings(self, *, langs: list[str] | None = None, docs: list[int] | None = None) -> CorpusEmbeddings:
        """Every chunk embedding (optionally filtered) with chunk ids, document ids and languages."""
        ...

    def fetch_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """The stored embeddings of chunk ``ids``, in that order, as an (n, dim) float32 matrix."""
        ...

    def known_embeddings(self, model_id: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of passages whose text is exactly one of ``texts`` (looked up by the
        text's hash), when the store holds embeddings of ``model_id``; ``{}`` otherwise. Ingest
        encodes only the others: boilerplate repeated across documents is embedded once per model."""
        ...

    # --- search ------------------------------------------------------------------------------------

    def search_vectors(self, query: np.ndarray, k: int, *, langs: list[str] | None = None,
                       docs: list[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest chunks to a normalised query vector: ``[(chunk_id, cosine), ...]``, best first."""
        ...

    def search_text(self, query: str, *, limit: int, langs: list[str] | None = None,
                    docs: list[int] | None = None) -> list[int]:
        """Chunk ids ranked by keyword relevance (BM25) for any of the query's words."""
        ...

    # --- writes ------------------------------------------------------------------------------------

    def add_document(self, *, sha256: str, text_sha256: str, file: str, title: str, lang: str, lang_source: str, pages: int,
                     size: int, model_id: str, chunks: list[NewChunk], ocr_pages: Sequence[OcrPageRecord] = (),
                     original: Path | None = None, added: str | None = None) -> Document:
        """Add one document, its chunks and its OCR'd pages, all or nothing; ``original`` (the PDF) is
        kept in the store so that hits can be shown on their page and the file downloaded; ``added``
        (an ISO time) keeps the date of a document copied from another store (``app.migrate``)."""
        ...

    def ocr_page(self, doc_id: int, page: int) -> OcrPageRecord | None:
        """The stored OCR of a page, None for a page that has a text layer."""
        ...

    def original_file(self, doc_id: int) -> Path | None:
        """The stored copy of the document's PDF, None when the store has none (documents added
        before originals were kept)."""
        ...

    def delete_document(self, doc_id: int) -> Document: ...

    def set_language(self, doc_id: int, lang: str) -> Document:
        """Give a document and all its chunks the language ``lang``, as the user's choice."""
        ...

    # --- translation sets the user marked ------------------------------------------------------------

    def translation_sets(self) -> list[list[int]]: ...

    def translation_set_of(self, doc_id: int) -> int | None: ...

    def mark_translation_set(self, doc_ids: list[int]) -> int: ...

    def unmark_translation_set(self, set_id: int, *, doc_id: int | None = None) -> None: ...

    # --- re-embedding with another model -----------------------------------------------------------

    def begin_reindex(self, model_id: str) -> np.ndarray:
        """Prepare re-embedding with ``model_id``; returns the chunk ids still to encode (resumable)."""
        ...

    def chunk_texts(self, ids: list[int]) -> list[str]: ...

    def stage_embeddings(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def finish_reindex(self, model_id: str) -> int:
        """Swap in the staged embeddings at once; returns the number of chunks re-embedded."""
        ...
