# Over 400 lines: one class over one SQLite schema, whose write order is the crash-consistency argument.
"""The store: SQLite (through sqlite-utils) is the source of truth, FAISS is derived from it.

A store is a folder::

    polylex.db              documents, chunks (text, page, heading, language, float32 embedding
                            BLOB, OCR confidence, and ``terms``: the text in the keyword index's
                            form, :mod:`app.keyword_text`), an FTS5 index on ``terms``, the pages read
                            by OCR with their word boxes, the translation sets the user marked,
                            and ``meta`` (model id, dimension, generation)
    index-g00000042.faiss   the FAISS index of generation 42
    originals/<sha256>.pdf  each document's PDF as it was added (for its pages and its download)
    page-cache/             pages rendered on demand for the page view (``app.page_view``)

Every write is one SQLite transaction that also bumps ``meta.generation``; the FAISS index is
written after the commit, atomically (temporary file, fsync, rename), under the name of the new
generation. So after a crash at any point SQLite holds the whole document or none of it, and an
index whose generation is behind is caught up from SQLite (missing ids added, extra ids
removed) the next time the store is opened or searched. ``doctor()`` checks everything against
everything and repairs by rebuilding from SQLite.

The index itself (its policy, the generation files, catching up, search, the consistency check)
is :mod:`app.vector_index`, which takes arrays and ids; this module reads those from SQLite and
keeps the transactions and the order of the writes. Ids in FAISS are SQLite rowids. The store's
interface, which a second backend implements too, is :class:`app.store_protocol.StoreBackend`.

Example::

    >>> store = Store.open("polylex-store")
    >>> [(d.id, d.file, d.lang, d.chunks) for d in store.documents()]
    [(1, 'constitution-de.pdf', 'de', 412)]
    >>> store.doctor().ok
    True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import sqlite_utils

from app.crash_points import CRASH_ENV, crash_point
from app.errors import NotInLibrary, StoreError
from app.keyword_text import fts5_query, index_form, query_terms
from app.store_protocol import (
    CorpusEmbeddings,
    DoctorReport,
    Document,
    NewChunk,
    OcrPageRecord,
    group_sets,
    match_documents,
    require_model,
    text_key,
)
from app.vector_index import IndexFiles, IndexPolicy, VectorIndex, exact_search
from corpora.languages import get_language

if TYPE_CHECKING:
    import faiss

__all__ = ["CRASH_ENV", "DB_FILE", "SCHEMA_VERSION", "CorpusEmbeddings", "DoctorReport", "Document", "IndexPolicy",
           "NewChunk", "Store", "crash_point"]

DB_FILE = "polylex.db"
SCHEMA_VERSION = 5
ORIGINALS = "originals"  # the stored PDFs, named by their sha256
ORPHAN_AGE_S = 3600
MIGRATION_BATCH = 5000  # chunks read at once when a migration computes a column for every chunk
LEGACY_SETS_FILE = "translation_sets.json"  # before schema 2 the sets lived in this file
log = logging.getLogger(__name__)
"""1: documents, chunks, meta. 2: translation_sets. 3: chunks.ocr_conf, ocr_pages, the originals folder.
4: chunks.text_sha (indexed), so identical passages are embedded once. 5: chunks.terms and the FTS5 index on
it instead of on the raw text (keyword search in every script). An older store gains what is new when it
is opened."""
KEYWORD_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
"""FTS5 over :func:`app.keyword_text.index_form`: that form has done the folding and the splitting, so the
tokenizer only splits at spaces, keeping combining marks inside words (``unicode61``'s default
categories split किताब into क, त, ब)."""


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def _matrix(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype="float32")
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype("float32", copy=False)


class Store:
    """One store folder, open: the SQLite database and the FAISS index loaded in memory.

    Implements :class:`app.store_protocol.StoreBackend`.

    Thread-safe: the UI may search from several threads while an ingest writes. Create with
    :meth:`open`; the CLI and the UI keep one open store for their lifetime, so searches pay
    neither for loading the index nor for opening the database.
    """

    def __init__(self, folder: Path, db: sqlite_utils.Database, policy: IndexPolicy) -> None:
        self.folder = folder
        self.db = db
        self.policy = policy
        self._lock = threading.RLock()
        self._files = IndexFiles(folder)
        self._index: VectorIndex | None = None
        self._index_generation = -1

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path, *, policy: IndexPolicy | None = None) -> Store:
        """Open (creating if needed) the store in ``folder`` and load or repair its FAISS index."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"store path {folder} is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(folder / DB_FILE), check_same_thread=False, timeout=30)
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")
        store = cls(folder, db, policy or IndexPolicy())
        store._migrate()
        store._load_index()
        store._import_legacy_sets()
        return store

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._lock, self.db.atomic():
            if "meta" not in self.db.table_names():
                self.db["meta"].create({"key": str, "value": str}, pk="key")
                self.db["meta"].insert_all([{"key": "schema", "value": str(SCHEMA_VERSION)},
                                            {"key": "generation", "value": "0"}])
            version = int(self._meta("schema") or 0)
            if version > SCHEMA_VERSION:
                raise StoreError(f"store {self.folder} has schema {version}; this Polylex reads up to {SCHEMA_VERSION}")
            if "documents" not in self.db.table_names():
                self.db["documents"].create(
                    {"id": int, "sha256": str, "text_sha256": str, "file": str, "title": str, "lang": str, "lang_source": str,
                     "pages": int, "chunks": int, "bytes": int, "added": str, "model": str},
                    pk="id", not_null={"sha256", "file"})
                self.db["documents"].create_index(["sha256"], unique=True)
                self.db["documents"].create_index(["text_sha256"])
            if "chunks" not in self.db.table_names():
                self.db["chunks"].create(
                    {"id": int, "doc_id": int, "seq": int, "page": int, "page_end": int, "heading": str,
                     "lang": str, "text": str, "embedding": bytes, "terms": str},
                    pk="id", foreign_keys=[("doc_id", "documents", "id")], not_null={"doc_id", "text"})
                self.db["chunks"].create_index(["doc_id"])
                self.db["chunks"].create_index(["lang"])
                # Triggers keep the FTS5 index inside the same transaction as the chunk rows.
                self.db["chunks"].enable_fts(["terms"], create_triggers=True, tokenize=KEYWORD_TOKENIZER)
            if "terms" not in self.db["chunks"].columns_dict:
                self._index_terms()
            if "ocr_conf" not in self.db["chunks"].columns_dict:
                self.db["chunks"].add_column("ocr_conf", float)
            if "text_sha" not in self.db["chunks"].columns_dict:
                self.db["chunks"].add_column("text_sha", str)
                self._fill_column("text_sha", text_key)
                self.db["chunks"].create_index(["text_sha"], if_not_exists=True)
            if "ocr_pages" not in self.db.table_names():
                self.db["ocr_pages"].create(
                    {"doc_id": int, "page": int, "confidence": float, "models": str, "note": str, "words": str},
                    pk=("doc_id", "page"), foreign_keys=[("doc_id", "documents", "id")])
            if "translation_sets" not in self.db.table_names():
                # One row per document in a set; a document is in at most one set (marking merges).
                self.db["translation_sets"].create({"doc_id": int, "set_id": int}, pk="doc_id",
                                                   foreign_keys=[("doc_id", "documents", "id")], not_null={"set_id"})
                self.db["translation_sets"].create_index(["set_id"])
            if version < SCHEMA_VERSION:
                self._set_meta("schema", str(SCHEMA_VERSION))

    def _index_terms(self) -> None:
        """Schema 5: each chunk's ``terms`` computed, and the FTS5 index moved from the raw text to them
        (inside the migration's transaction: a store is upgraded whole or not at all)."""
        count = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        log.info("store %s: building the keyword index of %d passages (schema 5)", self.folder, count)
        self.db["chunks"].disable_fts()
        self.db["chunks"].add_column("terms", str)
        self._fill_column("terms", index_form)
        self.db["chunks"].enable_fts(["terms"], create_triggers=True, tokenize=KEYWORD_TOKENIZER)

    def _fill_column(self, column: str, compute) -> int:
        """``column = compute(text)`` for every chunk where it is NULL, a few thousand chunks at a time
        (a large library's texts never sit in memory at once); returns how many were filled."""
        if column not in ("terms", "text_sha"):  # spliced into the SQL: a known name only, even under python -O
            raise ValueError(f"not a derived chunk column: {column!r}")
        last, filled = 0, 0
        while rows := self.db.execute(f"SELECT id, text FROM chunks WHERE id > ? AND {column} IS NULL ORDER BY id LIMIT ?",
                                      [last, MIGRATION_BATCH]).fetchall():
            self.db.conn.executemany(f"UPDATE chunks SET {column} = ? WHERE id = ?",
                                     [(compute(text), chunk_id) for chunk_id, text in rows])
            last, filled = rows[-1][0], filled + len(rows)
        return filled

    def _import_legacy_sets(self) -> int:
        """Migration of an older layout: marked translation sets once lived beside the database in
        ``translation_sets.json`` (``{"sets": [[doc_id, ...], ...]}``). Their documents still in the
        store are marked here, once, and the file is renamed ``translation_sets.json.imported``, so
        nothing marked is lost, whether the UI or the command line opens the store first. Returns
        the number of sets imported (0 without a file)."""
        path = self.folder / LEGACY_SETS_FILE
        if not path.exists():
            return 0
        try:
            raw = json.loads(path.read_text(encoding="utf-8")).get("sets", [])
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            raw = []
        existing = {d.id for d in self.documents()}
        imported = 0
        for members in raw:
            kept = sorted({int(m) for m in members if int(m) in existing})
            if len(kept) >= 2:
                self.mark_translation_set(kept)
                imported += 1
        os.replace(path, path.with_name(LEGACY_SETS_FILE + ".imported"))
        return imported

    # --- meta ---------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    @property
    def model_id(self) -> str | None:
        """The model whose embeddings the store holds (None while empty of any)."""
        return self._meta("model")

    @property
    def dim(self) -> int | None:
        value = self._meta("dim")
        return int(value) if value else None

    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    def labels_revision(self) -> int:
        """Bumped by every language correction: caches of chunk languages (the diagnostics corpus)
        include it in their key, since corrections keep the embeddings and the generation."""
        return int(self._meta("labels") or 0)

    def _bump_generation(self) -> int:
        generation = self.generation() + 1
        self._set_meta("generation", str(generation))
        return generation

    def check_model(self, model_id: str, dim: int) -> None:
        """Raise :class:`ModelMismatch` unless embeddings of ``model_id`` (``dim``) may be added or searched."""
        with self._lock:
            has_chunks = self.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None
            require_model(self.model_id, self.dim, has_chunks, model_id, dim)

    # --- reads --------------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        with self._lock:
            return [Document(**row) for row in self.db["documents"].rows_where(order_by="id")]

    def document(self, doc_id: int) -> Document | None:
        with self._lock:
            rows = list(self.db["documents"].rows_where("id = ?", [doc_id]))
        return Document(**rows[0]) if rows else None

    def find_documents(self, key: str) -> list[Document]:
        """Documents matching ``key``: an id, a file name, or a prefix (>= 6) of the content hash."""
        return match_documents(self.documents(), key)

    def by_hash(self, sha256: str) -> Document | None:
        with self._lock:
            rows = list(self.db["documents"].rows_where("sha256 = ?", [sha256]))
        return Document(**rows[0]) if rows else None

    def by_text_hash(self, text_sha256: str) -> Document | None:
        with self._lock:
            rows = list(self.db["documents"].rows_where("text_sha256 = ?", [text_sha256], limit=1))
        return Document(**rows[0]) if rows else None

    def chunk_count(self) -> int:
        with self._lock:
            return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def languages(self) -> dict[str, int]:
        """Chunks per language, most frequent first."""
        with self._lock:
            rows = self.db.execute("SELECT lang, count(*) FROM chunks GROUP BY lang ORDER BY 2 DESC").fetchall()
        return {lang: n for lang, n in rows}

    def fetch_chunks(self, ids: list[int]) -> dict[int, dict]:
        """Chunk rows (with their document's file and title, without the embedding) by id, in one query."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = (f"SELECT c.id, c.doc_id, c.seq, c.page, c.page_end, c.heading, c.lang, c.text, c.ocr_conf, d.file, d.title "
               f"FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})")
        with self._lock:
            cursor = self.db.execute(sql, [int(i) for i in ids])
            names = [c[0] for c in cursor.description]
            return {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}

    def chunk_ids(self, *, langs: list[str] | None = None, docs: list[int] | None = None) -> np.ndarray:
        """Ids of the chunks passing the filters (int64)."""
        where, params = self._filter_sql(langs, docs)
        with self._lock:
            rows = self.db.execute(f"SELECT id FROM chunks {where} ORDER BY id", params).fetchall()
        return np.array([r[0] for r in rows], dtype="int64")

    @staticmethod
    def _filter_sql(langs: list[str] | None, docs: list[int] | None, alias: str = "") -> tuple[str, list]:
        clauses, params = [], []
        if langs:
            clauses.append(f"{alias}lang IN ({','.join('?' * len(langs))})")
            params += list(langs)
        if docs:
            clauses.append(f"{alias}doc_id IN ({','.join('?' * len(docs))})")
            params += [int(d) for d in docs]
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params

    def embeddings(self, *, langs: list[str] | None = None, docs: list[int] | None = None) -> CorpusEmbeddings:
        """Every chunk embedding (optionally filtered) with chunk ids, document ids and languages."""
        where, params = self._filter_sql(langs, docs)
        dim = self.dim or 0
        with self._lock:
            rows = self.db.execute(f"SELECT id, doc_id, lang, embedding FROM chunks {where} ORDER BY id",
                                   params).fetchall()
        return CorpusEmbeddings(ids=np.array([r[0] for r in rows], dtype="int64"),
                                doc_ids=np.array([r[1] for r in rows], dtype="int64"),
                                langs=[r[2] for r in rows], vectors=_matrix([r[3] for r in rows], dim))

    def search_text(self, query: str, *, limit: int, langs: list[str] | None = None,
                    docs: list[int] | None = None) -> list[int]:
        """Chunk ids ranked by FTS5 BM25 for any of the query's words (OR, not AND: a question
        rarely shares all its words with the passage that answers it), in the form of
        :mod:`app.keyword_text` (folded, every script segmented, quoted phrases required)."""
        fts_query = fts5_query(query_terms(query))
        if not fts_query:
            return []
        where, params = self._filter_sql(langs, docs, alias="c.")
        where = where.replace("WHERE", "AND", 1)
        sql = (f"SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
               f"WHERE chunks_fts MATCH ? {where} ORDER BY chunks_fts.rank LIMIT ?")
        with self._lock:
            return [r[0] for r in self.db.execute(sql, [fts_query, *params, limit]).fetchall()]

    def known_embeddings(self, model_id: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        if self.model_id != model_id or not texts:
            return {}
        by_key = {text_key(t): t for t in texts}
        keys = list(by_key)
        found: dict[str, np.ndarray] = {}
        dim = self.dim or 0
        with self._lock:
            for start in range(0, len(keys), 900):  # SQLite's limit on bound parameters
                part = keys[start:start + 900]
                marks = ",".join("?" * len(part))
                for key, blob in self.db.execute(f"SELECT text_sha, embedding FROM chunks WHERE text_sha IN ({marks}) "
                                                 "GROUP BY text_sha", part).fetchall():
                    found[by_key[key]] = _matrix([blob], dim)[0]
        return found

    # --- dense search ---------------------------------------------------------------------------

    def search_vectors(self, query: np.ndarray, k: int, *, langs: list[str] | None = None,
                       docs: list[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest chunks to a normalised query vector: ``[(chunk_id, cosine), ...]``, best first.

        With filters, a small matching set is scored exactly from SQLite; a large one is searched
        in FAISS with an id selector, so filtered results are never fewer than FAISS can give.
        """
        query = np.ascontiguousarray(query, dtype="float32").reshape(-1)
        with self._lock:
            self._refresh_if_stale()
            among = None
            if langs or docs:
                among = self.chunk_ids(langs=langs, docs=docs)
                if len(among) == 0:
                    return []
                if len(among) <= self.policy.exact_filter_max:
                    corpus = self.embeddings(langs=langs, docs=docs)
                    ids, scores = exact_search(query, corpus.ids, corpus.vectors, k)
                    return [(int(i), float(s)) for i, s in zip(ids, scores)]
            if self._index is None:
                return []
            ids, scores = self._index.search(query, k, among=among)
        return [(int(i), float(s)) for i, s in zip(ids, scores)]

    @property
    def index(self) -> faiss.Index | None:
        """The loaded FAISS index (read it, do not change it)."""
        return self._index.faiss_index if self._index is not None else None

    def index_description(self) -> str:
        index = self._index
        if index is None:
            return "none"
        factory = self._meta("factory") or "?"
        return f"{factory} ({index.ntotal} vectors, generation {self._index_generation})"

    # --- writes -------------------------------------------------------------------------------

    def add_document(self, *, sha256: str, text_sha256: str, file: str, title: str, lang: str, lang_source: str, pages: int,
                     size: int, model_id: str, chunks: list[NewChunk], ocr_pages: Sequence[OcrPageRecord] = (),
                     original: Path | None = None, added: str | None = None) -> Document:
        """Add one document, its chunks and OCR'd pages in one transaction, then extend the FAISS index.

        ``original`` is copied to ``originals/<sha256>.pdf`` first (an orphan copy left by a crash is
        harmless: it is overwritten when the file is added again, and ``doctor`` removes it).

        Raises:
            ValueError: if the document has no chunks, or its hash is already stored.
            ModelMismatch: if the store holds another model's embeddings.
        """
        if not chunks:
            raise ValueError(f"document {file!r} has no chunks")
        dim = int(chunks[0].embedding.shape[0])
        with self._lock:
            self.check_model(model_id, dim)
            if self.by_hash(sha256):
                raise ValueError(f"document {sha256[:12]} ({file}) is already stored")
            if original is not None:
                self._keep_original(Path(original), sha256)
            with self.db.atomic():
                doc_id = self.db["documents"].insert({
                    "sha256": sha256, "text_sha256": text_sha256, "file": file, "title": title, "lang": lang, "lang_source": lang_source,
                    "pages": pages, "chunks": len(chunks), "bytes": size,
                    "added": added or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "model": model_id,
                }).last_pk
                self.db["chunks"].insert_all(
                    ({"doc_id": doc_id, "seq": c.seq, "page": c.page, "page_end": c.page_end, "heading": c.heading,
                      "lang": c.lang, "text": c.text, "embedding": _blob(c.embedding), "ocr_conf": c.ocr_conf,
                      "text_sha": text_key(c.text) if c.text is not None else None,
                      "terms": index_form(c.text) if c.text is not None else None}
                     for c in chunks),
                    batch_size=200)
                self.db["ocr_pages"].insert_all(
                    ({"doc_id": doc_id, "page": p.page, "confidence": p.confidence, "models": p.models, "note": p.note,
                      "words": json.dumps(p.words, ensure_ascii=False)} for p in ocr_pages), batch_size=50)
                self._set_meta("model", model_id)
                self._set_meta("dim", str(dim))
                generation = self._bump_generation()
                crash_point("before-commit")
            crash_point("after-commit")
            self._sync_index(generation)
            crash_point("after-index")
            return self.document(doc_id)

    def delete_document(self, doc_id: int) -> Document:
        """Delete a document and its chunks (one transaction), then drop them from FAISS."""
        with self._lock:
            doc = self.document(doc_id)
            if doc is None:
                raise NotInLibrary("document", doc_id)
            with self.db.atomic():
                self._leave_translation_set(doc_id)
                self.db.execute("DELETE FROM ocr_pages WHERE doc_id = ?", [doc_id])
                self.db.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id])
                self.db.execute("DELETE FROM documents WHERE id = ?", [doc_id])
                generation = self._bump_generation()
            self._sync_index(generation)
            self._original_path(doc.sha256).unlink(missing_ok=True)
            for cached in (self.folder / "page-cache").glob(f"{doc.sha256}-*"):
                cached.unlink(missing_ok=True)  # the deleted document's rendered pages go too
            return doc

    def _original_path(self, sha256: str) -> Path:
        return self.folder / ORIGINALS / f"{sha256}.pdf"

    def _keep_original(self, source: Path, sha256: str) -> None:
        """Copy the PDF in, durably, checking it is still the file that was read (same hash)."""
        target = self._original_path(sha256)
        target.parent.mkdir(exist_ok=True)
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".partial", delete=False) as out, \
                source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            Path(out.name).unlink(missing_ok=True)
            raise ValueError(f"{source.name} changed while it was being added (its content hash differs): add it again")
        os.replace(out.name, target)

    def original_file(self, doc_id: int) -> Path | None:
        doc = self.document(doc_id)
        if doc is None:
            return None
        path = self._original_path(doc.sha256)
        return path if path.is_file() else None

    def ocr_page(self, doc_id: int, page: int) -> OcrPageRecord | None:
        with self._lock:
            row = self.db.execute("SELECT page, confidence, models, note, words FROM ocr_pages "
                                  "WHERE doc_id = ? AND page = ?", [doc_id, page]).fetchone()
        if row is None:
            return None
        return OcrPageRecord(page=row[0], confidence=row[1], models=row[2], note=row[3] or "", words=json.loads(row[4]))

    def set_language(self, doc_id: int, lang: str) -> Document:
        """Give a document and all its chunks the language ``lang`` (one transaction), as the user's choice.

        Embeddings, FAISS and the generation do not change; the FTS5 triggers keep the text index in step;
        ``labels_revision`` goes up by one.

        Raises:
            ValueError: ``lang`` is not a known language code (``corpora.languages.UnknownLanguage``).
            NotInLibrary: no document ``doc_id`` (a ``KeyError``).
        """
        code = get_language(lang).code  # canonical: "arb" and "ar-EG" are stored as "ar"
        with self._lock, self.db.atomic():
            if self.db.execute("UPDATE documents SET lang = ?, lang_source = 'user' WHERE id = ?",
                               [code, doc_id]).rowcount == 0:
                raise NotInLibrary("document", doc_id)
            self.db.execute("UPDATE chunks SET lang = ? WHERE doc_id = ?", [code, doc_id])
            self._set_meta("labels", str(self.labels_revision() + 1))
        return self.document(doc_id)

    # --- translation sets the user marked -----------------------------------------------------------

    def translation_sets(self) -> list[list[int]]:
        """The marked translation sets: document ids, each set sorted and at least two long, sets sorted."""
        with self._lock:
            return group_sets(self.db.execute("SELECT set_id, doc_id FROM translation_sets ORDER BY doc_id").fetchall())

    def translation_set_of(self, doc_id: int) -> int | None:
        """The id of the set ``doc_id`` is marked in, or None."""
        with self._lock:
            row = self.db.execute("SELECT set_id FROM translation_sets WHERE doc_id = ?", [doc_id]).fetchone()
        return row[0] if row else None

    def mark_translation_set(self, doc_ids: list[int]) -> int:
        """Mark documents as translations of one another; returns the set's id.

        Sets sharing a document with ``doc_ids`` merge into one (translation is transitive), which
        keeps the id of the oldest of them.

        Raises:
            ValueError: fewer than two distinct documents.
            NotInLibrary: a document that is not in the store (a ``KeyError``).
        """
        members = sorted({int(d) for d in doc_ids})
        if len(members) < 2:
            raise ValueError(f"a translation set needs at least two documents, got {members}")
        marks = ",".join("?" * len(members))
        with self._lock, self.db.atomic():
            found = {r[0] for r in self.db.execute(f"SELECT id FROM documents WHERE id IN ({marks})", members)}
            missing = [d for d in members if d not in found]
            if missing:
                raise NotInLibrary("document", missing)
            joined = [r[0] for r in self.db.execute(
                f"SELECT DISTINCT set_id FROM translation_sets WHERE doc_id IN ({marks}) ORDER BY set_id", members)]
            if joined:
                set_id = joined[0]
                others = ",".join("?" * len(joined))
                self.db.execute(f"UPDATE translation_sets SET set_id = ? WHERE set_id IN ({others})", [set_id, *joined])
            else:
                set_id = self.db.execute("SELECT coalesce(max(set_id), 0) + 1 FROM translation_sets").fetchone()[0]
            self.db["translation_sets"].upsert_all(({"doc_id": d, "set_id": set_id} for d in members), pk="doc_id")
        return set_id

    def unmark_translation_set(self, set_id: int, *, doc_id: int | None = None) -> None:
        """Forget a marked set, or with ``doc_id`` take only that document out of it (a set left
        with one document disappears).

        Raises:
            NotInLibrary: no set ``set_id``, or ``doc_id`` is not in it (a ``KeyError``).
        """
        with self._lock, self.db.atomic():
            where, params = ("set_id = ?", [set_id]) if doc_id is None else ("set_id = ? AND doc_id = ?", [set_id, doc_id])
            if self.db.execute(f"DELETE FROM translation_sets WHERE {where}", params).rowcount == 0:
                raise NotInLibrary("translation set", set_id, holding=doc_id)
            self._drop_singleton_sets()

    def _leave_translation_set(self, doc_id: int) -> None:
        # Inside the caller's transaction (deleting a document).
        self.db.execute("DELETE FROM translation_sets WHERE doc_id = ?", [doc_id])
        self._drop_singleton_sets()

    def _drop_singleton_sets(self) -> None:
        self.db.execute("DELETE FROM translation_sets WHERE set_id IN "
                        "(SELECT set_id FROM translation_sets GROUP BY set_id HAVING count(*) < 2)")

    # --- re-embedding with another model --------------------------------------------------------

    def begin_reindex(self, model_id: str) -> np.ndarray:
        """Prepare re-embedding with ``model_id``; returns the chunk ids still to encode.

        Staged vectors go to ``pending_embeddings``; the current embeddings and index keep
        serving searches until :meth:`finish_reindex`. A reindex interrupted for the same model
        resumes where it stopped.
        """
        with self._lock, self.db.atomic():
            if self._meta("pending_model") != model_id and "pending_embeddings" in self.db.table_names():
                self.db["pending_embeddings"].drop()
            if "pending_embeddings" not in self.db.table_names():
                self.db["pending_embeddings"].create({"chunk_id": int, "embedding": bytes}, pk="chunk_id")
            self._set_meta("pending_model", model_id)
            rows = self.db.execute("SELECT id FROM chunks WHERE id NOT IN (SELECT chunk_id FROM pending_embeddings) "
                                   "ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype="int64")

    def chunk_texts(self, ids: list[int]) -> list[str]:
        rows = self.fetch_chunks(ids)
        return [rows[int(i)]["text"] for i in ids]

    def stage_embeddings(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock, self.db.atomic():
            self.db["pending_embeddings"].upsert_all(
                ({"chunk_id": int(i), "embedding": _blob(v)} for i, v in zip(ids, vectors)), pk="chunk_id")

    def finish_reindex(self, model_id: str) -> int:
        """Swap in the staged embeddings: build their index, write it, then commit the swap.

        The new index file is written before the SQLite swap commits, under the next generation;
        a crash in between leaves the old generation (and its index) in force.
        Returns the number of chunks re-embedded.
        """
        with self._lock:
            if self._meta("pending_model") != model_id:
                raise StoreError(f"no reindex to {model_id!r} in progress")
            missing = self.db.execute("SELECT count(*) FROM chunks WHERE id NOT IN "
                                      "(SELECT chunk_id FROM pending_embeddings)").fetchone()[0]
            if missing:
                raise StoreError(f"{missing} chunks are not re-embedded yet")
            rows = self.db.execute("SELECT p.chunk_id, p.embedding FROM pending_embeddings p JOIN chunks c "
                                   "ON c.id = p.chunk_id ORDER BY p.chunk_id").fetchall()
            ids = np.array([r[0] for r in rows], dtype="int64")
            dim = len(rows[0][1]) // 4 if rows else (self.dim or 0)
            vectors = _matrix([r[1] for r in rows], dim)
            generation = self.generation() + 1
            index = self._build_index(ids, vectors)
            self._write_index(index, generation)
            crash_point("reindex-index-written")
            with self.db.atomic():
                self.db.execute("UPDATE chunks SET embedding = (SELECT embedding FROM pending_embeddings p "
                                "WHERE p.chunk_id = chunks.id)")
                self.db.execute("UPDATE documents SET model = ?", [model_id])
                self._set_meta("model", model_id)
                self._set_meta("dim", str(dim))
                self._set_meta("pending_model", None)
                self._set_meta("generation", str(generation))
                self._set_meta("factory", self.policy.factory_for(len(ids)))
                self.db["pending_embeddings"].drop()
            self._index, self._index_generation = index, generation
            self._files.remove_all_but(generation)
            return len(ids)

    # --- the FAISS index ------------------------------------------------------------------------

    def _all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT id, embedding FROM chunks ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype="int64"), _matrix([r[1] for r in rows], self.dim or 0)

    def _build_index(self, ids: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        return VectorIndex.build(self.policy, ids, vectors, dim=self.dim or 384)  # 384: e5-small's, when empty

    def _write_index(self, index: VectorIndex, generation: int) -> None:
        self._files.write(index, generation, before_rename=lambda: crash_point("index-written"))

    def _load_index(self) -> None:
        """Load the index of the current generation; catch it up from SQLite if it is missing or stale."""
        with self._lock:
            generation = self.generation()
            path = self._files.path(generation)
            if path.exists():
                try:
                    index = VectorIndex.read(path, self.policy)
                except RuntimeError:  # unreadable file: rebuild from SQLite below
                    path.unlink(missing_ok=True)
                else:
                    if index.ntotal == self.chunk_count():
                        self._index, self._index_generation = index, generation
                        return
            self._index = None
            self._sync_index(generation)

    def _refresh_if_stale(self) -> None:
        # Another process (the CLI beside the UI) may have written since we loaded.
        if self.generation() != self._index_generation:
            self._load_index()

    def _sync_index(self, generation: int) -> None:
        """Make the in-memory index match SQLite, then write it as ``generation``.

        Starts from the loaded index or the newest index file, adds the chunks it lacks and
        removes those SQLite no longer has; rebuilds from scratch when the factory must change
        (the store crossed ``approximate_from``), when the index cannot remove ids (HNSW), or
        when nothing usable is on disk.
        """
        index = self._index if self._index is not None else self._files.read_newest(self.policy)
        n_chunks = self.chunk_count()
        factory = self.policy.factory_for(n_chunks)
        if index is not None and (self._meta("factory") != factory or
                                  (self.dim is not None and index.dim != self.dim)):
            index = None
        if index is not None:
            stored = np.array([r[0] for r in self.db.execute("SELECT id FROM chunks").fetchall()], dtype="int64")
            if not index.catch_up(stored, self.fetch_embeddings):
                index = None  # no id map, or HNSW cannot remove: rebuild below
        if index is None:
            ids, vectors = self._all_vectors()
            index = self._build_index(ids, vectors)
        with self.db.atomic():
            self._set_meta("factory", factory)
        self._write_index(index, generation)
        self._index, self._index_generation = index, generation
        self._files.remove_all_but(generation)

    def fetch_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Embeddings of the given chunk ids, in that order, as an (n, dim) float32 matrix."""
        found: dict[int, bytes] = {}
        id_list = [int(i) for i in ids]
        for start in range(0, len(id_list), 900):  # SQLite's limit on bound parameters
            part = id_list[start:start + 900]
            marks = ",".join("?" * len(part))
            found.update(self.db.execute(f"SELECT id, embedding FROM chunks WHERE id IN ({marks})", part).fetchall())
        return _matrix([found[i] for i in id_list], self.dim or 0)

    # --- doctor ---------------------------------------------------------------------------------

    def doctor(self, *, repair: bool = True) -> DoctorReport:
        """Check SQLite and FAISS against each other; with ``repair``, rebuild what is derived.

        Checks: SQLite integrity, the FTS5 index against the chunk table, chunk rows against
        their documents, embedding sizes and model ids, and the FAISS index (the generation of
        SQLite, the same ids, and each of a sample of stored vectors finds itself first).
        Repairs: FTS5 and FAISS are rebuilt from the chunk table; chunks whose document is gone
        are deleted. ``ok`` says whether anything is still wrong afterwards.
        """
        with self._lock:
            problems = self._find_problems()
            repaired: list[str] = []
            if repair and problems:
                rebuild_faiss = any("FAISS" in p for p in problems)
                if any(p.startswith("full-text index") for p in problems):
                    with self.db.atomic():
                        self.db["chunks"].rebuild_fts()
                    repaired.append("rebuilt the full-text index")
                    rebuild_faiss = True
                if any("keyword form" in p for p in problems):
                    with self.db.atomic():
                        repaired.append(f"indexed the keywords of {self._fill_column('terms', index_form)} passages")
                if any(p.endswith("chunks belong to no document") for p in problems):
                    with self.db.atomic():
                        self.db.execute("DELETE FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)")
                        self._bump_generation()
                    repaired.append("deleted the orphan chunks")
                    rebuild_faiss = True
                if any(ORIGINALS in p for p in problems):
                    for path in self._orphan_originals():
                        path.unlink(missing_ok=True)
                    repaired.append("deleted the stored PDFs of no document")
                if rebuild_faiss:
                    self._index = None
                    self._sync_index(self.generation())
                    repaired.append("rebuilt the FAISS index from SQLite")
                remaining = self._find_problems()
            else:
                remaining = problems
            return DoctorReport(ok=not remaining, documents=len(self.documents()), chunks=self.chunk_count(),
                                model=self.model_id, index=self.index_description(), problems=problems,
                                repaired=repaired)

    def _orphan_originals(self) -> list[Path]:
        """Stored PDFs of no document, older than :data:`ORPHAN_AGE_S` (a younger one may belong to
        an ingest another process is committing right now)."""
        folder = self.folder / ORIGINALS
        if not folder.is_dir():
            return []
        known = {f"{r[0]}.pdf" for r in self.db.execute("SELECT sha256 FROM documents").fetchall()}
        old = time.time() - ORPHAN_AGE_S
        orphans = []
        for path in folder.iterdir():
            try:
                if path.name not in known and path.stat().st_mtime < old:
                    orphans.append(path)
            except FileNotFoundError:  # removed or replaced by another process meanwhile
                continue
        return sorted(orphans)

    def _find_problems(self) -> list[str]:
        problems: list[str] = []
        quick = self.db.execute("PRAGMA quick_check").fetchone()[0]
        if quick != "ok":
            problems.append(f"SQLite quick_check: {quick}")
        try:
            self.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
        except sqlite3.DatabaseError as exc:
            problems.append(f"full-text index: {exc}")
        unindexed = self.db.execute("SELECT count(*) FROM chunks WHERE terms IS NULL").fetchone()[0]
        if unindexed:
            problems.append(f"{unindexed} passages lack their keyword form (keyword search cannot find them)")
        orphans = self.db.execute("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)"
                                  ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} chunks belong to no document")
        miscounted = self.db.execute(
            "SELECT d.id, d.chunks, (SELECT count(*) FROM chunks c WHERE c.doc_id = d.id) AS n "
            "FROM documents d WHERE n != d.chunks").fetchall()
        for doc_id, expected, actual in miscounted:
            problems.append(f"document {doc_id} should have {expected} chunks and has {actual}")
        model, dim = self.model_id, self.dim
        if dim:
            bad = self.db.execute("SELECT count(*) FROM chunks WHERE length(embedding) != ?", [dim * 4]).fetchone()[0]
            if bad:
                problems.append(f"{bad} chunks have embeddings of the wrong size (expected {dim} floats)")
        others = self.db.execute("SELECT DISTINCT model FROM documents WHERE model != ?", [model or ""]).fetchall()
        if others:
            problems.append(f"documents embedded with other models: {sorted(r[0] for r in others)}")
        orphans = self._orphan_originals()
        if orphans:
            problems.append(f"{len(orphans)} stored PDF(s) in {ORIGINALS}/ belong to no document")
        if self._meta("pending_model"):
            problems.append(f"an unfinished reindex to {self._meta('pending_model')!r} is staged "
                            "(run reindex again to finish it)")
        return problems + self._check_index()

    def _check_index(self) -> list[str]:
        problems = []
        generation = self.generation()
        if not self._files.path(generation).exists():
            problems.append(f"FAISS index file of generation {generation} is missing")
        index = self._index
        if index is None:
            return problems + ["no FAISS index loaded"]
        if self._index_generation != generation:
            problems.append(f"FAISS index is generation {self._index_generation}, SQLite is at {generation}")
        stored = np.array([r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id").fetchall()], dtype="int64")
        # The vectors are sampled only when nothing else is wrong (as before: the cheap checks first).
        found = index.check(stored, None if problems else self.fetch_embeddings)
        if found.vectors != found.expected:
            problems.append(f"FAISS has {found.vectors} vectors, SQLite {found.expected} chunks")
        if found.ids_differ:
            problems.append("FAISS ids differ from SQLite chunk ids")
        if found.vectors_match is False:
            problems.append("FAISS vectors do not match the embeddings stored in SQLite")
        return problems

    # --- iteration for exports / diagnostics ----------------------------------------------------

    def iter_chunks(self, doc_id: int) -> Iterator[dict]:
        with self._lock:
            rows = list(self.db["chunks"].rows_where("doc_id = ?", [doc_id], order_by="seq",
                                                     select="id, seq, page, page_end, heading, lang, text"))
        yield from rows

    def stats(self) -> dict:
        return {"documents": len(self.documents()), "chunks": self.chunk_count(), "model": self.model_id,
                "dim": self.dim, "index": self.index_description(), "languages": self.languages(),
                "generation": self.generation()}
