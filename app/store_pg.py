# Over 400 lines: one class over one PostgreSQL schema, the second implementation of StoreBackend.
"""The store on PostgreSQL with pgvector: one library shared by several app processes or machines.

Selected by ``POLYLEX_STORE=postgresql://user@host/db`` (:func:`app.store_open.open_store`). The
database holds everything the SQLite + FAISS folder holds, in tables of the same names:

    meta              schema, generation, labels revision, model id, dimension, a staged reindex
    documents         one row per PDF (``sha256`` unique: two processes adding one file meet here)
    chunks            passages with their ``vector(dim)`` embedding and ``terms``: the passage in the
                      keyword index's form (:mod:`app.keyword_text`) as a ``tsvector``, indexed (GIN)
    ocr_pages         pages read by OCR with their word boxes (JSON)
    translation_sets  the sets the user marked
    originals         each document's PDF (``bytea``), so every app process can show its pages

Vector search follows the same tiers as the FAISS store, chosen by measurement
(``bench/store_backends.py``, ``bench/pgvector_index.py``, README Performance): exact below 20k passages (a scan of the table
in inner-product order), from 20k an IVFFlat index (``vector_ip_ops``: inner product on normalised
vectors) with sqrt(n) lists, probing 1/32 of them. pgvector's HNSW reached only recall@10 0.56-0.82
at 100k passages (m 16-32, ef_search 100-400) on the benchmark's clustered vectors, where IVFFlat
reached 0.997 at 2 ms. IVFFlat's lists are fitted to the rows present when it is built, so it is
built when the library crosses 20k passages and rebuilt (a new index, swapped in one transaction)
whenever the library has doubled or halved since; rows added meanwhile join their nearest list.

Every write is one transaction that first locks the ``generation`` row of ``meta``: writers from
every process queue there (as SQLite's one writer does), the generation goes up by one with each
write, and a killed ingest leaves all of its document or none of it. Searches take no lock and see
the last committed state; there is no derived file to catch up, so a second process sees a new
document as soon as it is committed.

``folder`` is a local working folder (rendered pages, originals fetched for the page view), named
after the database so that two libraries never share one; it holds nothing the database lacks.

Example::

    >>> store = PgStore.open("postgresql://polylex@db.example/polylex", folder=Path("~/.cache/polylex/stores/x"))
    >>> store.doctor().ok
    True
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from app.crash_points import crash_point
from app.errors import ModelMismatch, NotInLibrary, StoreError
from app.keyword_text import query_terms, tsquery, tsvector_literal
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
from corpora.languages import get_language

__all__ = ["PG_SCHEMA_VERSION", "PgStore", "VectorPolicy"]

log = logging.getLogger(__name__)

PG_SCHEMA_VERSION = 3
"""1: the tables. 2: chunks.text_sha (indexed), so identical passages are embedded once. 3: chunks.terms (the
passage in the keyword index's form, :mod:`app.keyword_text`, as a ``tsvector`` literal) and the full-text
index on it, instead of the server's parser over the raw text and a trigram index (pg_trgm is no longer
needed)."""
VECTOR_INDEX = "chunks_embedding_ivf"


@dataclass(frozen=True)
class VectorPolicy:
    """When the PostgreSQL store builds an IVFFlat index, and how it searches it.

    Args:
        approximate_from: passages from which IVFFlat is used; below, every search is exact.
        exact_filter_max: with a language/document filter matching at most this many passages, those
            are scored exactly; a larger filtered set is searched with IVFFlat's iterative scan
            (pgvector 0.8), which probes more lists until ``k`` rows pass the filter.
    """

    approximate_from: int = 20_000
    exact_filter_max: int = 20_000
    min_lists: int = 64
    min_probes: int = 10

    def lists_for(self, n: int) -> int:
        return max(self.min_lists, round(math.sqrt(n)))

    def probes_for(self, lists: int) -> int:
        return max(self.min_probes, math.ceil(lists / 32))


DOCUMENT_COLUMNS = "id, sha256, text_sha256, file, title, lang, lang_source, pages, chunks, bytes, added, model"

_SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO meta VALUES ('schema', '{PG_SCHEMA_VERSION}'), ('generation', '0'), ('labels', '0')
    ON CONFLICT (key) DO NOTHING;
CREATE TABLE IF NOT EXISTS documents (
    id bigserial PRIMARY KEY, sha256 text NOT NULL UNIQUE, text_sha256 text NOT NULL, file text NOT NULL,
    title text NOT NULL, lang text NOT NULL, lang_source text NOT NULL, pages integer NOT NULL,
    chunks integer NOT NULL, bytes bigint NOT NULL, added text NOT NULL, model text NOT NULL);
CREATE INDEX IF NOT EXISTS documents_text_sha256 ON documents (text_sha256);
CREATE TABLE IF NOT EXISTS chunks (
    id bigserial PRIMARY KEY, doc_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq integer NOT NULL, page integer NOT NULL, page_end integer NOT NULL, heading text, lang text NOT NULL,
    text text NOT NULL, ocr_conf real, embedding vector NOT NULL);
ALTER TABLE chunks ADD COLUMN IF NOT EXISTS text_sha text;
UPDATE chunks SET text_sha = encode(sha256(convert_to(text, 'UTF8')), 'hex') WHERE text_sha IS NULL;
CREATE INDEX IF NOT EXISTS chunks_text_sha ON chunks (text_sha);
CREATE INDEX IF NOT EXISTS chunks_doc_id ON chunks (doc_id);
CREATE INDEX IF NOT EXISTS chunks_lang ON chunks (lang);
DROP INDEX IF EXISTS chunks_trigram;
ALTER TABLE chunks DROP COLUMN IF EXISTS tsv;
ALTER TABLE chunks ADD COLUMN IF NOT EXISTS terms text;
ALTER TABLE chunks ADD COLUMN IF NOT EXISTS terms_tsv tsvector GENERATED ALWAYS AS (coalesce(terms, '')::tsvector) STORED;
CREATE INDEX IF NOT EXISTS chunks_terms ON chunks USING gin (terms_tsv);
CREATE TABLE IF NOT EXISTS ocr_pages (
    doc_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE, page integer NOT NULL,
    confidence real NOT NULL, models text NOT NULL, note text NOT NULL, words jsonb NOT NULL,
    PRIMARY KEY (doc_id, page));
CREATE TABLE IF NOT EXISTS translation_sets (
    doc_id bigint PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE, set_id bigint NOT NULL);
CREATE INDEX IF NOT EXISTS translation_sets_set_id ON translation_sets (set_id);
CREATE TABLE IF NOT EXISTS originals (sha256 text PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE IF NOT EXISTS pending_embeddings (
    chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE, embedding vector NOT NULL);
"""


def _index_terms(conn) -> int:
    """The keyword form of every passage that lacks one (all of them when a schema-2 database is upgraded; any
    an older process wrote since, on repair), a few thousand rows per statement in id order, with the
    full-text index dropped meanwhile and built once after. Returns the number of passages filled."""
    if not conn.execute("SELECT EXISTS (SELECT 1 FROM chunks WHERE terms IS NULL)").fetchone()[0]:
        return 0
    conn.execute("DROP INDEX IF EXISTS chunks_terms")
    last, filled = 0, 0
    while rows := conn.execute("SELECT id, text FROM chunks WHERE id > %s AND terms IS NULL ORDER BY id LIMIT 5000",
                               [last]).fetchall():
        conn.cursor().executemany("UPDATE chunks SET terms = %s WHERE id = %s",
                                  [(tsvector_literal(text), chunk_id) for chunk_id, text in rows])
        last, filled = rows[-1][0], filled + len(rows)
    conn.execute("CREATE INDEX IF NOT EXISTS chunks_terms ON chunks USING gin (terms_tsv)")
    return filled


def redact(url: str) -> str:
    """The database URL without its password, for messages and the UI."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


class PgStore:
    """An open PostgreSQL library: a pool of connections (searches run in parallel, writers queue).

    Implements :class:`app.store_protocol.StoreBackend`. Create with :meth:`open`.
    """

    def __init__(self, url: str, folder: Path, pool: Any, policy: VectorPolicy) -> None:
        self.url = url
        self.folder = folder
        self.policy = policy
        self._pool = pool
        self._lock = threading.RLock()  # only for the local folder

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, folder: Path, max_connections: int = 8, policy: VectorPolicy | None = None) -> PgStore:
        """Connect to ``url``, create the schema if the database has none, and return the open store.

        Raises:
            StoreError: the server cannot be reached, lacks pgvector, or holds a newer schema.
        """
        import psycopg
        from pgvector.psycopg import register_vector
        from psycopg_pool import ConnectionPool

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                current = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0] and conn.execute(
                    "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'schema' AND value::int >= %s)",
                    [PG_SCHEMA_VERSION]).fetchone()[0]
                if not current:
                    # A new or older database. (An up-to-date one is not written to here: a read replica can serve
                    # searches.)
                    # Two processes opening it at once: one creates the schema, the other waits.
                    conn.execute("SELECT pg_advisory_lock(727274)")
                    try:
                        conn.execute(_SCHEMA)
                        _index_terms(conn)
                        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema' AND value::int < %s",
                                     [str(PG_SCHEMA_VERSION), PG_SCHEMA_VERSION])
                    finally:
                        conn.execute("SELECT pg_advisory_unlock(727274)")
                version = int(conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
        except psycopg.errors.FeatureNotSupported as exc:
            raise StoreError(f"{redact(url)}: the server lacks an extension Polylex needs (pgvector): {exc}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot use the PostgreSQL store {redact(url)}: {str(exc).strip().splitlines()[0]}") from exc
        if version > PG_SCHEMA_VERSION:
            raise StoreError(f"{redact(url)} has Polylex schema {version}; this Polylex reads up to {PG_SCHEMA_VERSION}")
        pool = ConnectionPool(url, min_size=1, max_size=max_connections, configure=register_vector, open=True,
                              kwargs={"connect_timeout": 10}, name="polylex")
        return cls(url, folder, pool, policy or VectorPolicy())

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """A write transaction on a pooled connection, queued behind every other writer (of every
        process) by the lock on the ``generation`` row; committed on success, rolled back on any error."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT value FROM meta WHERE key = 'generation' FOR UPDATE")
            yield conn

    # --- meta ---------------------------------------------------------------------------------

    def _meta(self, key: str, conn: Any = None) -> str | None:
        rows = (conn.execute("SELECT value FROM meta WHERE key = %s", [key]).fetchall() if conn is not None
                else self._read("SELECT value FROM meta WHERE key = %s", [key]))
        return rows[0][0] if rows else None

    @staticmethod
    def _set_meta(conn: Any, key: str, value: str | None) -> None:
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = %s", [key])
        else:
            conn.execute("INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         [key, value])

    @property
    def model_id(self) -> str | None:
        return self._meta("model")

    @property
    def dim(self) -> int | None:
        value = self._meta("dim")
        return int(value) if value else None

    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    def labels_revision(self) -> int:
        return int(self._meta("labels") or 0)

    def check_model(self, model_id: str, dim: int, *, conn: Any = None) -> None:
        sql = ("SELECT (SELECT value FROM meta WHERE key = 'model'), (SELECT value FROM meta WHERE key = 'dim'), "
               "EXISTS (SELECT 1 FROM chunks)")
        stored, stored_dim, has_chunks = conn.execute(sql).fetchone() if conn is not None else self._read(sql)[0]
        require_model(stored, int(stored_dim) if stored_dim else None, has_chunks, model_id, dim)

    # --- reads --------------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return [Document(*row) for row in self._read(f"SELECT {DOCUMENT_COLUMNS} FROM documents ORDER BY id")]

    def document(self, doc_id: int) -> Document | None:
        rows = self._read(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = %s", [int(doc_id)])
        return Document(*rows[0]) if rows else None

    def find_documents(self, key: str) -> list[Document]:
        return match_documents(self.documents(), key)

    def by_hash(self, sha256: str) -> Document | None:
        rows = self._read(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE sha256 = %s", [sha256])
        return Document(*rows[0]) if rows else None

    def by_text_hash(self, text_sha256: str) -> Document | None:
        rows = self._read(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE text_sha256 = %s ORDER BY id LIMIT 1",
                          [text_sha256])
        return Document(*rows[0]) if rows else None

    def chunk_count(self) -> int:
        return self._read("SELECT count(*) FROM chunks")[0][0]

    def languages(self) -> dict[str, int]:
        return {lang: n for lang, n in self._read("SELECT lang, count(*) FROM chunks GROUP BY lang ORDER BY 2 DESC, 1")}

    def fetch_chunks(self, ids: list[int]) -> dict[int, dict]:
        if not ids:
            return {}
        names = ["id", "doc_id", "seq", "page", "page_end", "heading", "lang", "text", "ocr_conf", "file", "title"]
        rows = self._read("SELECT c.id, c.doc_id, c.seq, c.page, c.page_end, c.heading, c.lang, c.text, c.ocr_conf, "
                          "d.file, d.title FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id = ANY(%s)",
                          [[int(i) for i in ids]])
        return {row[0]: dict(zip(names, row)) for row in rows}

    @staticmethod
    def _filter_sql(langs: list[str] | None, docs: list[int] | None, alias: str = "") -> tuple[str, list]:
        clauses, params = [], []
        if langs:
            clauses.append(f"{alias}lang = ANY(%s)")
            params.append(list(langs))
        if docs:
            clauses.append(f"{alias}doc_id = ANY(%s)")
            params.append([int(d) for d in docs])
        return " AND ".join(clauses), params

    def chunk_ids(self, *, langs: list[str] | None = None, docs: list[int] | None = None) -> np.ndarray:
        where, params = self._filter_sql(langs, docs)
        rows = self._read(f"SELECT id FROM chunks {'WHERE ' + where if where else ''} ORDER BY id", params)
        return np.array([r[0] for r in rows], dtype="int64")

    def embeddings(self, *, langs: list[str] | None = None, docs: list[int] | None = None) -> CorpusEmbeddings:
        where, params = self._filter_sql(langs, docs)
        with self._pool.connection() as conn, conn.cursor(binary=True) as cur:
            rows = cur.execute(f"SELECT id, doc_id, lang, embedding FROM chunks {'WHERE ' + where if where else ''} "
                               "ORDER BY id", params).fetchall()
        dim = self.dim or 0
        vectors = (np.stack([_array(r[3]) for r in rows]).astype("float32", copy=False) if rows
                   else np.zeros((0, dim), dtype="float32"))
        return CorpusEmbeddings(ids=np.array([r[0] for r in rows], dtype="int64"),
                                doc_ids=np.array([r[1] for r in rows], dtype="int64"),
                                langs=[r[2] for r in rows], vectors=vectors)

    def fetch_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Embeddings of the given chunk ids, in that order, as an (n, dim) float32 matrix."""
        id_list = [int(i) for i in ids]
        with self._pool.connection() as conn, conn.cursor(binary=True) as cur:
            found = dict(cur.execute("SELECT id, embedding FROM chunks WHERE id = ANY(%s)", [id_list]).fetchall())
        if not id_list:
            return np.zeros((0, self.dim or 0), dtype="float32")
        return np.stack([_array(found[i]) for i in id_list]).astype("float32", copy=False)

    def iter_chunks(self, doc_id: int) -> Iterator[dict]:
        names = ["id", "seq", "page", "page_end", "heading", "lang", "text"]
        for row in self._read("SELECT id, seq, page, page_end, heading, lang, text FROM chunks WHERE doc_id = %s "
                              "ORDER BY seq", [int(doc_id)]):
            yield dict(zip(names, row))

    def known_embeddings(self, model_id: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        if self.model_id != model_id or not texts:
            return {}
        by_key = {text_key(t): t for t in texts}
        with self._pool.connection() as conn, conn.cursor(binary=True) as cur:
            rows = cur.execute("SELECT DISTINCT ON (text_sha) text_sha, embedding FROM chunks WHERE text_sha = ANY(%s)",
                               [list(by_key)]).fetchall()
        return {by_key[key]: _array(vector) for key, vector in rows}

    # --- search ---------------------------------------------------------------------------------

    def search_vectors(self, query: np.ndarray, k: int, *, langs: list[str] | None = None,
                       docs: list[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest chunks by inner product (cosine: the vectors are normalised), best first.

        Exact while the library (or the filter's share of it) is small, IVFFlat beyond (see the
        module's doc); a large filtered set uses IVFFlat's iterative scan, so filtered results are
        not cut short.
        """
        from pgvector import Vector

        vector = Vector(np.ascontiguousarray(query, dtype="float32").reshape(-1))
        where, params = self._filter_sql(langs, docs)
        with self._pool.connection() as conn, conn.transaction():
            lists = self._meta("ivf_lists", conn)
            exact = lists is None
            if where and not exact:
                matching = conn.execute(f"SELECT count(*) FROM chunks WHERE {where}", params).fetchone()[0]
                exact = matching <= self.policy.exact_filter_max
            if exact:
                conn.execute("SET LOCAL enable_indexscan = off")
            else:
                conn.execute(f"SET LOCAL ivfflat.probes = {self.policy.probes_for(int(lists))}")
                if where:
                    conn.execute("SET LOCAL ivfflat.iterative_scan = relaxed_order")
            rows = conn.execute(f"SELECT id, score FROM (SELECT id, -(embedding <#> %s) AS score FROM chunks "
                                f"{'WHERE ' + where if where else ''} ORDER BY embedding <#> %s LIMIT %s) found "
                                "ORDER BY score DESC, id", [vector, *params, vector, int(k)]).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def search_text(self, query: str, *, limit: int, langs: list[str] | None = None,
                    docs: list[int] | None = None) -> list[int]:
        """Chunk ids ranked by full-text relevance (``ts_rank_cd``) for any of the query's words, in the
        form of :mod:`app.keyword_text` (folded, every script segmented, quoted phrases required): the
        query is cast to ``tsquery`` as it is, never parsed by the server."""
        lookup = tsquery(query_terms(query))
        if not lookup:
            return []
        where, params = self._filter_sql(langs, docs, alias="c.")
        sql = ("SELECT c.id FROM chunks c, CAST(%s AS tsquery) q WHERE c.terms_tsv @@ q "
               + (f"AND {where} " if where else "") + "ORDER BY ts_rank_cd(c.terms_tsv, q) DESC, c.id LIMIT %s")
        return [r[0] for r in self._read(sql, [lookup, *params, int(limit)])]

    def index_description(self) -> str:
        n, lists = self.chunk_count(), self._meta("ivf_lists")
        kind = (f"pgvector IVFFlat ({lists} lists, {self.policy.probes_for(int(lists))} probes)" if lists
                else "pgvector exact")
        return f"{kind} ({n} vectors, generation {self.generation()})"

    # --- writes -------------------------------------------------------------------------------

    def add_document(self, *, sha256: str, text_sha256: str, file: str, title: str, lang: str, lang_source: str, pages: int,
                     size: int, model_id: str, chunks: list[NewChunk], ocr_pages: Sequence[OcrPageRecord] = (),
                     original: Path | None = None, added: str | None = None) -> Document:
        """Add one document, its chunks, OCR'd pages and PDF in one transaction.

        Raises:
            ValueError: if the document has no chunks, or its hash is already stored.
            ModelMismatch: if the store holds another model's embeddings.
        """
        from pgvector import Vector

        if not chunks:
            raise ValueError(f"document {file!r} has no chunks")
        dim = int(chunks[0].embedding.shape[0])
        data = _read_original(Path(original), sha256) if original is not None else None
        with self._write() as conn:
            self.check_model(model_id, dim, conn=conn)
            if conn.execute("SELECT 1 FROM documents WHERE sha256 = %s", [sha256]).fetchone():
                raise ValueError(f"document {sha256[:12]} ({file}) is already stored")
            if self._meta("dim", conn) != str(dim):
                self._set_dimension(conn, dim)
            doc_id = conn.execute(
                "INSERT INTO documents (sha256, text_sha256, file, title, lang, lang_source, pages, chunks, bytes, added, "
                "model) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [sha256, text_sha256, file, title, lang, lang_source, pages, len(chunks), size,
                 added or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), model_id]).fetchone()[0]
            with conn.cursor(binary=True) as cur, cur.copy(
                    "COPY chunks (doc_id, seq, page, page_end, heading, lang, text, ocr_conf, embedding, text_sha, terms) "
                    "FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "int4", "int4", "int4", "text", "text", "text", "float4", "vector", "text", "text"])
                for c in chunks:
                    copy.write_row([doc_id, c.seq, c.page, c.page_end, c.heading, c.lang, c.text, c.ocr_conf,
                                    Vector(np.asarray(c.embedding, dtype="float32")),
                                    text_key(c.text) if c.text is not None else None,
                                    tsvector_literal(c.text) if c.text is not None else None])
            if ocr_pages:
                conn.cursor().executemany(
                    "INSERT INTO ocr_pages VALUES (%s, %s, %s, %s, %s, %s)",
                    [(doc_id, p.page, p.confidence, p.models, p.note, json.dumps(p.words, ensure_ascii=False))
                     for p in ocr_pages])
            if data is not None:
                conn.execute("INSERT INTO originals VALUES (%s, %s) ON CONFLICT (sha256) DO UPDATE SET data = excluded.data",
                             [sha256, data])
            self._set_meta(conn, "model", model_id)
            self._maintain_vector_index(conn)
            self._bump(conn)
            crash_point("before-commit")
        crash_point("after-commit")
        return self.document(doc_id)

    def _set_dimension(self, conn: Any, dim: int) -> None:
        """Type the embedding column ``vector(dim)`` (a new store, or one whose chunks are all gone);
        inside the caller's write transaction."""
        if conn.execute("SELECT EXISTS (SELECT 1 FROM chunks)").fetchone()[0]:
            raise ModelMismatch(f"the store holds {self._meta('dim', conn)}-d embeddings, the model gives {dim}-d; "
                                "reindex first")
        self._drop_vector_index(conn)
        conn.execute(f"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({int(dim)})")
        self._set_meta(conn, "dim", str(dim))

    def _drop_vector_index(self, conn: Any) -> None:
        conn.execute(f"DROP INDEX IF EXISTS {VECTOR_INDEX}")
        self._set_meta(conn, "ivf_lists", None)
        self._set_meta(conn, "ivf_rows", None)

    def _build_vector_index(self, conn: Any, n: int) -> None:
        """(Re)build IVFFlat on the rows present, under a new name swapped in, inside the caller's
        write transaction: searches of other sessions go on with the old index until it commits."""
        lists = self.policy.lists_for(n)
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute(f"DROP INDEX IF EXISTS {VECTOR_INDEX}_new")
        conn.execute(f"CREATE INDEX {VECTOR_INDEX}_new ON chunks USING ivfflat (embedding vector_ip_ops) "
                     f"WITH (lists = {lists})")
        conn.execute(f"DROP INDEX IF EXISTS {VECTOR_INDEX}")
        conn.execute(f"ALTER INDEX {VECTOR_INDEX}_new RENAME TO {VECTOR_INDEX}")
        self._set_meta(conn, "ivf_lists", str(lists))
        self._set_meta(conn, "ivf_rows", str(n))

    def _library_size(self, conn: Any = None) -> int:
        """Passages in the library, for the vector-index policy: the documents' own chunk counts, written
        with them (``doctor`` checks them against the chunk rows). A row per document, where count(*)
        would scan every chunk on each write."""
        sql = "SELECT coalesce(sum(chunks), 0) FROM documents"
        return int((conn.execute(sql).fetchone() if conn is not None else self._read(sql)[0])[0])

    def _maintain_vector_index(self, conn: Any) -> None:
        """After a write, inside its transaction: build IVFFlat when the library crosses
        ``approximate_from``, rebuild it when the library has doubled or halved since, drop it below."""
        n = self._library_size(conn)
        built = self._meta("ivf_rows", conn)
        if n < self.policy.approximate_from:
            if built is not None:
                self._drop_vector_index(conn)
        elif built is None or n >= 2 * int(built) or 2 * n <= int(built):
            self._build_vector_index(conn, n)

    def _bump(self, conn: Any) -> int:
        return int(conn.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation' "
                                "RETURNING value").fetchone()[0])

    def delete_document(self, doc_id: int) -> Document:
        doc = self.document(doc_id)
        if doc is None:
            raise NotInLibrary("document", doc_id)
        with self._write() as conn:
            if conn.execute("DELETE FROM documents WHERE id = %s", [int(doc_id)]).rowcount == 0:
                raise NotInLibrary("document", doc_id)  # another process deleted it meanwhile
            self._drop_singleton_sets(conn)  # chunks, OCR pages and set rows go by ON DELETE CASCADE
            conn.execute("DELETE FROM originals WHERE sha256 = %s", [doc.sha256])  # sha256 is unique to it
            self._maintain_vector_index(conn)
            self._bump(conn)
        with self._lock:
            (self.folder / "originals" / f"{doc.sha256}.pdf").unlink(missing_ok=True)
            for cached in (self.folder / "page-cache").glob(f"{doc.sha256}-*"):
                cached.unlink(missing_ok=True)
        return doc

    def original_file(self, doc_id: int) -> Path | None:
        """The document's PDF, fetched from the database into the local folder once."""
        doc = self.document(doc_id)
        if doc is None:
            return None
        target = self.folder / "originals" / f"{doc.sha256}.pdf"
        with self._lock:
            if target.is_file():
                return target
            rows = self._read("SELECT data FROM originals WHERE sha256 = %s", [doc.sha256])
            if not rows:
                return None
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".partial", delete=False) as out:
                out.write(rows[0][0])
            os.replace(out.name, target)
        return target

    def ocr_page(self, doc_id: int, page: int) -> OcrPageRecord | None:
        rows = self._read("SELECT page, confidence, models, note, words FROM ocr_pages WHERE doc_id = %s AND page = %s",
                          [int(doc_id), int(page)])
        if not rows:
            return None
        page_no, confidence, models, note, words = rows[0]
        return OcrPageRecord(page=page_no, confidence=confidence, models=models, note=note or "",
                             words=words if isinstance(words, list) else json.loads(words))

    def set_language(self, doc_id: int, lang: str) -> Document:
        code = get_language(lang).code
        with self._write() as conn:
            if conn.execute("UPDATE documents SET lang = %s, lang_source = 'user' WHERE id = %s",
                            [code, int(doc_id)]).rowcount == 0:
                raise NotInLibrary("document", doc_id)
            conn.execute("UPDATE chunks SET lang = %s WHERE doc_id = %s", [code, int(doc_id)])
            conn.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'labels'")
        return self.document(doc_id)

    # --- translation sets the user marked -----------------------------------------------------------

    def translation_sets(self) -> list[list[int]]:
        return group_sets(self._read("SELECT set_id, doc_id FROM translation_sets ORDER BY doc_id"))

    def translation_set_of(self, doc_id: int) -> int | None:
        rows = self._read("SELECT set_id FROM translation_sets WHERE doc_id = %s", [int(doc_id)])
        return rows[0][0] if rows else None

    def mark_translation_set(self, doc_ids: list[int]) -> int:
        members = sorted({int(d) for d in doc_ids})
        if len(members) < 2:
            raise ValueError(f"a translation set needs at least two documents, got {members}")
        with self._write() as conn:
            found = {r[0] for r in conn.execute("SELECT id FROM documents WHERE id = ANY(%s)", [members])}
            missing = [d for d in members if d not in found]
            if missing:
                raise NotInLibrary("document", missing)
            joined = [r[0] for r in conn.execute("SELECT DISTINCT set_id FROM translation_sets WHERE doc_id = ANY(%s) "
                                                 "ORDER BY set_id", [members])]
            if joined:
                set_id = joined[0]
                conn.execute("UPDATE translation_sets SET set_id = %s WHERE set_id = ANY(%s)", [set_id, joined])
            else:
                set_id = conn.execute("SELECT coalesce(max(set_id), 0) + 1 FROM translation_sets").fetchone()[0]
            conn.cursor().executemany("INSERT INTO translation_sets VALUES (%s, %s) ON CONFLICT (doc_id) "
                                      "DO UPDATE SET set_id = excluded.set_id", [(d, set_id) for d in members])
        return int(set_id)

    def unmark_translation_set(self, set_id: int, *, doc_id: int | None = None) -> None:
        with self._write() as conn:
            if doc_id is None:
                deleted = conn.execute("DELETE FROM translation_sets WHERE set_id = %s", [int(set_id)]).rowcount
            else:
                deleted = conn.execute("DELETE FROM translation_sets WHERE set_id = %s AND doc_id = %s",
                                       [int(set_id), int(doc_id)]).rowcount
            if deleted == 0:
                raise NotInLibrary("translation set", set_id, holding=doc_id)
            self._drop_singleton_sets(conn)

    @staticmethod
    def _drop_singleton_sets(conn: Any) -> None:
        conn.execute("DELETE FROM translation_sets WHERE set_id IN "
                     "(SELECT set_id FROM translation_sets GROUP BY set_id HAVING count(*) < 2)")

    # --- re-embedding with another model --------------------------------------------------------

    def begin_reindex(self, model_id: str) -> np.ndarray:
        """Prepare re-embedding with ``model_id``: staged vectors go to ``pending_embeddings`` while the
        current ones keep serving; one interrupted for the same model resumes where it stopped."""
        with self._write() as conn:
            if self._meta("pending_model", conn) != model_id:
                conn.execute("DELETE FROM pending_embeddings")
            self._set_meta(conn, "pending_model", model_id)
            rows = conn.execute("SELECT id FROM chunks WHERE id NOT IN (SELECT chunk_id FROM pending_embeddings) "
                                "ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype="int64")

    def chunk_texts(self, ids: list[int]) -> list[str]:
        rows = self.fetch_chunks(ids)
        return [rows[int(i)]["text"] for i in ids]

    def stage_embeddings(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        from pgvector import Vector

        with self._pool.connection() as conn, conn.transaction():
            conn.cursor().executemany(
                "INSERT INTO pending_embeddings VALUES (%s, %s) ON CONFLICT (chunk_id) DO UPDATE SET embedding = excluded.embedding",
                [(int(i), Vector(np.asarray(v, dtype="float32"))) for i, v in zip(ids, vectors)])

    def finish_reindex(self, model_id: str) -> int:
        """Swap in the staged embeddings in one transaction; searches see the old ones until it commits.

        With the same dimension the rows are updated in place; with another the column is retyped.
        The IVFFlat index (if the library has one) is rebuilt on the new vectors inside the transaction.
        """
        with self._write() as conn:
            if self._meta("pending_model", conn) != model_id:
                raise StoreError(f"no reindex to {model_id!r} in progress")
            missing = conn.execute("SELECT count(*) FROM chunks WHERE id NOT IN "
                                   "(SELECT chunk_id FROM pending_embeddings)").fetchone()[0]
            if missing:
                raise StoreError(f"{missing} chunks are not re-embedded yet")
            n, dim = conn.execute("SELECT count(*), max(vector_dims(embedding)) FROM pending_embeddings").fetchone()
            dim = int(dim or self._meta("dim", conn) or 0)
            self._drop_vector_index(conn)
            if str(dim) != self._meta("dim", conn):
                conn.execute("ALTER TABLE chunks ALTER COLUMN embedding TYPE vector")
            conn.execute("UPDATE chunks c SET embedding = p.embedding FROM pending_embeddings p WHERE p.chunk_id = c.id")
            if str(dim) != self._meta("dim", conn):
                conn.execute(f"ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({dim})")
            self._maintain_vector_index(conn)
            conn.execute("UPDATE documents SET model = %s", [model_id])
            conn.execute("DELETE FROM pending_embeddings")
            self._set_meta(conn, "model", model_id)
            self._set_meta(conn, "dim", str(dim))
            self._set_meta(conn, "pending_model", None)
            self._bump(conn)
            crash_point("reindex-staged")
        return int(n)

    # --- doctor ---------------------------------------------------------------------------------

    def doctor(self, *, repair: bool = True) -> DoctorReport:
        """Check the database's parts against each other; with ``repair``, rebuild what is derived.

        Checks: chunk counts against their documents, embedding sizes and model ids, the vector,
        full-text indexes (present where due, and valid), each of a sample of stored
        vectors finding itself, stored PDFs of no document, a staged reindex. Repairs: the indexes
        are rebuilt, orphan PDFs deleted.
        """
        problems = self._find_problems()
        repaired: list[str] = []
        if repair and problems:
            with self._pool.connection() as conn:
                if any("index" in p for p in problems):
                    conn.execute(_SCHEMA)  # recreates a missing full-text index
                    conn.execute("REINDEX TABLE chunks")
                    with conn.transaction():
                        conn.execute("SELECT value FROM meta WHERE key = 'generation' FOR UPDATE")
                        self._drop_vector_index(conn)
                        self._maintain_vector_index(conn)
                    repaired.append("rebuilt the indexes of the chunk table")
                if any("belong to no document" in p for p in problems):
                    conn.execute("DELETE FROM originals WHERE sha256 NOT IN (SELECT sha256 FROM documents)")
                    repaired.append("deleted the stored PDFs of no document")
                if any("keyword form" in p for p in problems):
                    repaired.append(f"indexed the keywords of {_index_terms(conn)} passages")
            remaining = self._find_problems()
        else:
            remaining = problems
        return DoctorReport(ok=not remaining, documents=len(self.documents()), chunks=self.chunk_count(),
                            model=self.model_id, index=self.index_description(), problems=problems, repaired=repaired)

    def _find_problems(self) -> list[str]:
        problems: list[str] = []
        unindexed = self._read("SELECT count(*) FROM chunks WHERE terms IS NULL")[0][0]
        if unindexed:
            problems.append(f"{unindexed} passages lack their keyword form (keyword search cannot find them)")
        for doc_id, expected, actual in self._read(
                "SELECT d.id, d.chunks, count(c.id) FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id "
                "GROUP BY d.id HAVING count(c.id) != d.chunks ORDER BY d.id"):
            problems.append(f"document {doc_id} should have {expected} chunks and has {actual}")
        model, dim = self.model_id, self.dim
        if dim:
            bad = self._read("SELECT count(*) FROM chunks WHERE vector_dims(embedding) != %s", [dim])[0][0]
            if bad:
                problems.append(f"{bad} chunks have embeddings of the wrong size (expected {dim} floats)")
        others = self._read("SELECT DISTINCT model FROM documents WHERE model != %s", [model or ""])
        if others:
            problems.append(f"documents embedded with other models: {sorted(r[0] for r in others)}")
        orphans = self._read("SELECT count(*) FROM originals WHERE sha256 NOT IN (SELECT sha256 FROM documents)")[0][0]
        if orphans:
            problems.append(f"{orphans} stored PDF(s) belong to no document")
        pending = self._meta("pending_model")
        if pending:
            problems.append(f"an unfinished reindex to {pending!r} is staged (run reindex again to finish it)")
        indexes = dict(self._read("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                  "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = 'chunks'"))
        due = self._library_size() >= self.policy.approximate_from  # as the repair below decides it
        wanted = ["chunks_terms"] + ([VECTOR_INDEX] if due or self._meta("ivf_lists") else [])
        for name in wanted:
            if name not in indexes:
                problems.append(f"index {name} is missing")
            elif not indexes[name]:
                problems.append(f"index {name} is invalid")
        if due and VECTOR_INDEX in indexes and self._meta("ivf_lists") is None:
            problems.append(f"index {VECTOR_INDEX} is not recorded in meta")
        if not problems and dim:
            problems += self._check_vectors()
        return problems

    def _check_vectors(self) -> list[str]:
        """Each of up to 5 stored vectors must find itself (or an exact duplicate) first."""
        ids = self.chunk_ids()
        if len(ids) == 0:
            return []
        sample = ids[np.linspace(0, len(ids) - 1, num=min(len(ids), 5)).astype(int)]
        for vector in self.fetch_embeddings(sample):
            hits = self.search_vectors(vector, 1)
            if not hits or hits[0][1] < 0.9999 * float(vector @ vector):
                return ["the vector index does not find stored vectors (index damaged?)"]
        return []

    def stats(self) -> dict:
        return {"documents": len(self.documents()), "chunks": self.chunk_count(), "model": self.model_id,
                "dim": self.dim, "index": self.index_description(), "languages": self.languages(),
                "generation": self.generation()}


def _array(value: Any) -> np.ndarray:
    """A pgvector value as numpy (the binary protocol gives ``Vector`` objects)."""
    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value, dtype="float32")


def _read_original(source: Path, sha256: str) -> bytes:
    """The PDF's bytes, checked to be the file that was read (same hash)."""
    import hashlib

    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"{source.name} changed while it was being added (its content hash differs): add it again")
    return data
