"""PDF files -> chunks + languages -> embeddings -> the store; one result per file.

The pipeline for one file: de-duplication by the file's hash, then :func:`app.pdf.read_pdf`
(refusals) and OCR of the pages without a text layer (:func:`app.scan.ocr_pdf`, page by page, with
progress and a way to cancel), both in a worker process with time and memory limits
(:mod:`app.read_worker`), de-duplication by text, :func:`app.chunking.chunk_pages` with the
encoder's own tokenizer (refused over ``POLYLEX_MAX_PASSAGES``), identical passages encoded once, language per chunk
(:mod:`app.langid`), passage embeddings, then :meth:`app.store.Store.add_document` (one
transaction, then FAISS). A refused or failing file is reported and the next one goes on.

The UI calls the same functions as the CLI; ``progress`` takes Gradio's ``gr.Progress`` as is
(it is called as ``progress(fraction, desc=...)``).

Example::

    >>> store = Store.open("polylex-store"); encoder = load_encoder("default")
    >>> for result in ingest_paths(["contracts/"], store=store, encoder=encoder):
    ...     print(result.line())
    added      contracts/nda-de.pdf: 3 pages, 7 chunks, de
    duplicate  contracts/copy-of-nda.pdf: same content as document 1 (nda-de.pdf)
    added      contracts/scan-sw.pdf: 2 pages (2 by OCR), 3 chunks, sw (document 2)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.chunking import DEFAULT_BUDGET, Chunk, CountTokens, chunk_pages
from app.crash_points import crash_point
from app.errors import ModelMismatch, RefusedFile
from app.langid import detect_batch, document_language
from app.pdf import PdfText, find_pdfs, require_text
from app.read_worker import read_isolated
from app.scan import Cancelled, ocr_pdf
from app.store_protocol import NewChunk, OcrPageRecord, StoreBackend
from corpora.settings import Settings, get_settings
from trainer.adapters import sha256_of
from trainer.encoder import Encoder

Progress = Callable[..., Any]
"""``progress(fraction, desc=...)``: ``gr.Progress`` or any callable of that shape."""

ENCODE_BATCH = 8
"""Chunks per forward pass. One document's chunks vary in length, and a batch is padded to its
longest: small batches waste little on padding, and on CPU they cost no throughput."""
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


Status = Literal["added", "duplicate", "refused", "cancelled"]


@dataclass
class IngestResult:
    """What happened to one file.

    ``status`` is ``added``, ``duplicate``, ``refused`` or ``cancelled``; ``reason`` says why for the
    last three. ``languages`` maps language codes to their share of the document's text (largest
    first). ``ocr_pages`` pages were read by OCR; ``warnings`` lists what the user should know about an
    added document (pages not read, low OCR confidence).
    """

    path: str
    status: Status
    reason: str = ""
    doc_id: int | None = None
    title: str = ""
    lang: str = ""
    pages: int = 0
    chunks: int = 0
    languages: dict[str, float] = field(default_factory=dict)
    ocr_pages: int = 0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for a terminal or a log (and one indented line per warning)."""
        if self.status == "added":
            langs = ", ".join(f"{lang} {share:.0%}" if share < 0.995 else lang for lang, share in self.languages.items())
            ocr = f" ({self.ocr_pages} by OCR)" if self.ocr_pages else ""
            head = f"added      {self.path}: {self.pages} pages{ocr}, {self.chunks} chunks, {langs} (document {self.doc_id})"
            return "\n".join([head, *(f"  warning: {w}" for w in self.warnings)])
        return f"{self.status:<10} {self.path}: {self.reason}"

    def to_dict(self) -> dict:
        return asdict(self)


def model_id(encoder: Encoder) -> str:
    """The id of the weights an encoder holds (set by ``trainer.encoder.load_encoder``)."""
    from trainer.encoder import model_id as _model_id

    return _model_id(encoder)


def token_counter(encoder: Encoder) -> CountTokens:
    """Token counts with the encoder's own tokenizer, without special tokens or prompt."""
    tokenizer = encoder.tokenizer

    def count(texts: list[str]) -> list[int]:
        if not texts:
            return []
        encoded = tokenizer(list(texts), add_special_tokens=False, return_attention_mask=False,
                            return_token_type_ids=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    return count


def chunk_budget(encoder: Encoder) -> int:
    """Tokens per chunk: :data:`DEFAULT_BUDGET`, or less if the model reads fewer (prompt and
    special tokens need room too)."""
    limit = int(getattr(encoder, "max_seq_length", 512) or 512)
    return max(16, min(DEFAULT_BUDGET, limit - 16))


def encode_passages(encoder: Encoder, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH,
                    on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Normalised float32 passage embeddings, (len(texts), dim).

    Texts are encoded longest first in slices, so each batch pads little and ``on_batch(done)``
    can report progress; rows come back in the input order.
    """
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out: np.ndarray | None = None
    step = batch_size * 4
    for start in range(0, len(texts), step):
        part = order[start:start + step]
        vectors = encoder.encode_document([texts[i] for i in part], batch_size=batch_size, convert_to_numpy=True,
                                          normalize_embeddings=True, show_progress_bar=False)
        if out is None:
            out = np.empty((len(texts), vectors.shape[1]), dtype="float32")
        out[part] = vectors
        if on_batch:
            on_batch(min(start + step, len(texts)))
    return out if out is not None else np.zeros((0, 0), dtype="float32")


def check_lang(lang: str | None) -> str | None:
    if lang is None or lang == "":
        return None
    if not _LANG_CODE.match(lang):
        raise ValueError(f"--lang {lang!r} is not a language code; use ISO 639-1 (de, sw) or 639-3 (bem, fon)")
    return lang


def languages_of(chunks: list[Chunk], *, lang: str | None = None) -> tuple[list[str], str, dict[str, float]]:
    """Per-chunk languages, the document language (majority by text length) and the shares.

    With ``lang`` (the user's override) every chunk and the document get that language.
    """
    if lang:
        return [lang] * len(chunks), lang, {lang: 1.0}
    langs = [d.lang for d in detect_batch([c.text for c in chunks])]
    weights: dict[str, int] = {}
    for code, chunk in zip(langs, chunks):
        weights[code] = weights.get(code, 0) + len(chunk.text)
    total = sum(weights.values()) or 1
    shares = {code: round(w / total, 4) for code, w in sorted(weights.items(), key=lambda kv: -kv[1])}
    doc_lang = document_language([(code, len(c.text)) for code, c in zip(langs, chunks)]).lang
    return langs, doc_lang, shares


def _ocr_conf(pdf: PdfText, first: int, last: int) -> float | None:
    """The lowest OCR confidence of the pages a chunk spans; None when none of them was read by OCR."""
    confs = [pdf.ocr[n].confidence for n in range(first, last + 1) if n in pdf.ocr]
    return min(confs) if confs else None


def _ocr_records(pdf: PdfText) -> list[OcrPageRecord]:
    return [OcrPageRecord(page=n, confidence=p.confidence, models=p.models, note=p.note,
                          words=[[w.text, *(round(v, 5) for v in w.box), round(w.conf, 1), w.line] for w in p.words])
            for n, p in sorted(pdf.ocr.items())]


def ingest_pdf(pdf: PdfText, *, store: StoreBackend, encoder: Encoder, lang: str | None = None,
               on_encoded: Callable[[int, int], None] | None = None, settings: Settings | None = None,
               on_page: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None) -> IngestResult:
    """OCR (where needed), chunk, label, embed and store one PDF already read (from :func:`app.pdf.read_pdf`).

    ``on_page(done, total)`` reports OCR progress, ``on_encoded(done, total)`` encoding progress;
    setting ``cancel`` stops OCR between pages with :class:`app.scan.Cancelled` (nothing stored).
    """
    shown = str(pdf.path)
    existing, why = store.by_hash(pdf.sha256), "same file as"
    if existing is None:
        pdf = ocr_pdf(pdf, settings=settings or get_settings(), lang=lang, on_page=on_page, cancel=cancel)
        require_text(pdf)
        existing, why = store.by_text_hash(pdf.text_sha256), "same text as"
    if existing:
        return IngestResult(shown, "duplicate", f"{why} document {existing.id} ({existing.file})",
                            doc_id=existing.id, title=existing.title, lang=existing.lang, pages=existing.pages,
                            chunks=existing.chunks)
    chunks = chunk_pages(pdf.pages, count_tokens=token_counter(encoder), budget=chunk_budget(encoder))
    if not chunks:
        raise RefusedFile("no text worth indexing (only numbers or symbols)")
    limit = (settings or get_settings()).max_passages
    if len(chunks) > limit:
        raise RefusedFile(f"{len(chunks):,} passages, over the {limit:,}-passage limit (POLYLEX_MAX_PASSAGES): "
                          "split the file, or raise the limit")
    langs, doc_lang, shares = languages_of(chunks, lang=lang)
    # Identical passages (repeated headers, boilerplate) are encoded once: same text, same vector, within
    # the document and across the library (the store's embeddings of this model, found by text hash).
    unique = list(dict.fromkeys(c.text for c in chunks))
    store.check_model(model_id(encoder), encoder.get_embedding_dimension())
    known = store.known_embeddings(model_id(encoder), unique)
    todo = [t for t in unique if t not in known]
    encoded = encode_passages(encoder, todo,
                              on_batch=(lambda done: on_encoded(done, len(todo))) if on_encoded else None)
    vector_of = {**known, **dict(zip(todo, encoded))}
    vectors = np.stack([vector_of[c.text] for c in chunks]).astype("float32", copy=False)
    crash_point("after-encode")
    doc = store.add_document(
        sha256=pdf.sha256, text_sha256=pdf.text_sha256, file=pdf.path.name, title=pdf.title, lang=doc_lang,
        lang_source="user" if lang else "detected", pages=len(pdf.pages), size=pdf.size, model_id=model_id(encoder),
        chunks=[NewChunk(seq=i, page=c.page, page_end=c.page_end, heading=c.heading, lang=code, text=c.text,
                         embedding=v, ocr_conf=_ocr_conf(pdf, c.page, c.page_end))
                for i, (c, code, v) in enumerate(zip(chunks, langs, vectors))],
        ocr_pages=_ocr_records(pdf), original=pdf.path)
    return IngestResult(shown, "added", doc_id=doc.id, title=doc.title, lang=doc_lang, pages=doc.pages,
                        chunks=doc.chunks, languages=shares, ocr_pages=len(pdf.ocr), warnings=pdf.warnings())


def _stored_copy(path: Path, *, store: StoreBackend, max_mb: float) -> IngestResult | None:
    """A duplicate result when the very same file is already stored (by its bytes), before any parsing."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size == 0 or size > max_mb * 1024 * 1024:
        return None  # the reader refuses it with the reason
    existing = store.by_hash(sha256_of(path))
    if existing is None:
        return None
    return IngestResult(str(path), "duplicate", f"same file as document {existing.id} ({existing.file})",
                        doc_id=existing.id, title=existing.title, lang=existing.lang, pages=existing.pages,
                        chunks=existing.chunks)


def ingest_paths(paths: Sequence[str | Path], *, store: StoreBackend, encoder: Encoder, lang: str | None = None,
                 max_mb: float | None = None, progress: Progress | None = None, settings: Settings | None = None,
                 cancel: threading.Event | None = None) -> list[IngestResult]:
    """Ingest PDFs and folders of PDFs; one :class:`IngestResult` per file (or refused folder).

    Args:
        paths: files (their header decides whether they are PDFs) and folders (their ``*.pdf``).
        store: the open store.
        encoder: a sentence-transformers model (``trainer.encoder.load_encoder``).
        lang: language code that overrides detection for every document of this call.
        max_mb: size limit in MiB (default ``settings.max_mb``, ``POLYLEX_MAX_MB``).
        progress: ``progress(fraction, desc=...)`` (``gr.Progress`` works as is).
        settings: OCR settings and limits (default ``get_settings()``).
        cancel: set it from another thread to stop: the file being read is not stored, the files
            after it are reported ``cancelled``, the files before it stay stored.

    Raises:
        ModelMismatch: before reading anything, if the store holds another model's embeddings.
        ValueError: for a malformed ``lang``.
    """
    lang = check_lang(lang)
    store.check_model(model_id(encoder), int(encoder.get_embedding_dimension()))
    settings = settings or get_settings()
    limit = settings.max_mb if max_mb is None else max_mb
    files, refused_paths = find_pdfs(list(paths))
    results = [IngestResult(str(path), "refused", reason) for path, reason in refused_paths]
    for number, path in enumerate(files):
        if cancel is not None and cancel.is_set():
            results.append(IngestResult(str(path), "cancelled", "not started: the ingest was cancelled"))
            continue

        def report(fraction: float, what: str, _n: int = number, _path: Path = path) -> None:
            if progress:
                progress((_n + fraction) / len(files), desc=f"{_path.name} ({_n + 1}/{len(files)}): {what}")

        report(0.0, "reading")
        try:
            known = _stored_copy(path, store=store, max_mb=limit)
            if known is not None:
                results.append(known)
                report(1.0, known.status)
                continue
            # Parsing and OCR run in a worker process with time and memory limits (app.read_worker).
            pdf = read_isolated(path, settings=settings, lang=lang, max_mb=limit, cancel=cancel,
                                on_page=lambda done, total: report(0.05 + 0.55 * done / total,
                                                                   f"OCR page {done}/{total}"))
            crash_point("after-read")
            result = ingest_pdf(pdf, store=store, encoder=encoder, lang=lang, settings=settings, cancel=cancel,
                                on_encoded=lambda done, total: report(0.6 + 0.35 * done / total,
                                                                      f"encoding {done}/{total} chunks"))
        except Cancelled as exc:
            result = IngestResult(str(path), "cancelled", str(exc))
        except RefusedFile as exc:
            result = IngestResult(str(path), "refused", str(exc))
        except ModelMismatch:
            raise
        except Exception as exc:  # one broken file must not stop the batch; say what broke
            result = IngestResult(str(path), "refused", f"failed while ingesting: {type(exc).__name__}: {exc}")
        results.append(result)
        report(1.0, result.status)
    return results


def reindex(store: StoreBackend, encoder: Encoder, *, batch: int = 256, progress: Progress | None = None) -> int:
    """Re-embed every chunk with ``encoder``; the old embeddings and index serve until the swap.

    Embeddings are staged in batches (an interrupted reindex resumes), then swapped in with
    :meth:`Store.finish_reindex`. Returns the number of chunks re-embedded.
    """
    new_model = model_id(encoder)
    todo = store.begin_reindex(new_model)
    for start in range(0, len(todo), batch):
        ids = todo[start:start + batch]
        vectors = encode_passages(encoder, store.chunk_texts(list(ids)))
        store.stage_embeddings(ids, vectors)
        if progress:
            progress((start + len(ids)) / max(len(todo), 1), desc=f"re-embedding {start + len(ids)}/{len(todo)} chunks")
    crash_point("reindex-staged")
    return store.finish_reindex(new_model)
