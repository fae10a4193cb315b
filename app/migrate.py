"""Copy a library from one store to another (a SQLite + FAISS folder into PostgreSQL), embeddings and all.

Nothing is re-encoded: each document goes across with its passages, their stored vectors, its
OCR'd pages, its PDF, its language (and whether the user chose it) and the date it was added, one
document per transaction of the target. A copy interrupted half way is resumed by running it again:
documents already in the target (same content hash) are skipped. The marked translation sets are
mapped onto the target's document ids. Then the two are compared: documents, passages and passages
per language must agree, and a sample of passages (text and vector, found by document hash and
position) must be identical.

Example::

    >>> report = migrate(Store.open("polylex-store"), open_store("postgresql://polylex@db/polylex", cache=cache))
    >>> report.ok, report.documents_copied
    (True, 412)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from app.errors import StoreError
from app.store_protocol import NewChunk, StoreBackend

_CHANGED = ("the source library changed during the copy ({what}); run migrate again when no one is writing "
            "to it (documents already copied are skipped)")

__all__ = ["MigrationReport", "migrate"]

Progress = Callable[..., None]


@dataclass
class MigrationReport:
    documents_copied: int
    documents_skipped: int
    chunks_copied: int
    translation_sets: int
    vectors_checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def migrate(source: StoreBackend, target: StoreBackend, *, sample: int = 200, progress: Progress | None = None
            ) -> MigrationReport:
    """Copy every document of ``source`` into ``target`` and verify the copy (see the module's doc)."""
    if source.model_id is not None:
        target.check_model(source.model_id, int(source.embeddings(docs=[source.documents()[0].id]).vectors.shape[1]))
    documents = source.documents()
    copied = skipped = chunks = 0
    for n, doc in enumerate(documents):
        if progress is not None:
            progress(n / max(1, len(documents)), desc=f"{doc.file} ({n + 1}/{len(documents)})")
        if target.by_hash(doc.sha256) is not None:
            skipped += 1
            continue
        corpus = source.embeddings(docs=[doc.id])
        rows = source.fetch_chunks(corpus.ids.tolist())
        if len(rows) < len(corpus.ids):
            raise StoreError(_CHANGED.format(what=f"document {doc.id}, {doc.file}, lost passages"))
        new_chunks = [NewChunk(seq=rows[i]["seq"], page=rows[i]["page"], page_end=rows[i]["page_end"],
                               heading=rows[i]["heading"], lang=rows[i]["lang"], text=rows[i]["text"], embedding=vector,
                               ocr_conf=rows[i]["ocr_conf"])
                      for i, vector in zip(corpus.ids.tolist(), corpus.vectors)]
        ocr_pages = [p for p in (source.ocr_page(doc.id, page) for page in range(1, doc.pages + 1)) if p is not None]
        target.add_document(sha256=doc.sha256, text_sha256=doc.text_sha256, file=doc.file, title=doc.title,
                            lang=doc.lang, lang_source=doc.lang_source, pages=doc.pages, size=doc.bytes,
                            model_id=doc.model, chunks=new_chunks, ocr_pages=ocr_pages,
                            original=source.original_file(doc.id), added=doc.added)
        copied += 1
        chunks += len(new_chunks)
    sets = _copy_translation_sets(source, target)
    if progress is not None:
        progress(1.0, desc="verifying")
    problems, checked = _verify(source, target, sample=sample)
    return MigrationReport(documents_copied=copied, documents_skipped=skipped, chunks_copied=chunks,
                           translation_sets=sets, vectors_checked=checked, problems=problems)


def _copy_translation_sets(source: StoreBackend, target: StoreBackend) -> int:
    by_hash = {d.sha256: d.id for d in target.documents()}
    source_hash = {d.id: d.sha256 for d in source.documents()}
    for members in source.translation_sets():
        if not all(source_hash.get(m) in by_hash for m in members):
            raise StoreError(_CHANGED.format(what=f"a translation set holds documents {members} not copied"))
        target.mark_translation_set([by_hash[source_hash[m]] for m in members])  # marking again merges: idempotent
    return len(source.translation_sets())


def _verify(source: StoreBackend, target: StoreBackend, *, sample: int) -> tuple[list[str], int]:
    problems: list[str] = []
    source_docs = {d.sha256: d for d in source.documents()}
    target_docs = {d.sha256: d for d in target.documents()}
    missing = sorted(set(source_docs) - set(target_docs))
    if missing:
        problems.append(f"{len(missing)} documents were not copied (e.g. {source_docs[missing[0]].file})")
    if source.languages() != target.languages() and not missing:
        problems.append(f"passages per language differ: {source.languages()} here, {target.languages()} there")
    for sha, doc in source_docs.items():
        other = target_docs.get(sha)
        if other is not None and (other.chunks, other.lang, other.lang_source) != (doc.chunks, doc.lang, doc.lang_source):
            problems.append(f"{doc.file}: {other.chunks} passages ({other.lang}, {other.lang_source}) in the copy, "
                            f"{doc.chunks} ({doc.lang}, {doc.lang_source}) in the source")
    source_hashes, target_hashes = _hashes(source), _hashes(target)
    source_sets = [sorted(source_hashes[m] for m in s) for s in source.translation_sets()]
    target_sets = [sorted(target_hashes[m] for m in s) for s in target.translation_sets()]
    if any(s not in target_sets for s in source_sets):
        problems.append("translation sets differ")
    corpus = source.embeddings()
    if len(corpus.ids) == 0:
        return problems, 0
    rng = np.random.default_rng(0)
    picked = np.sort(rng.choice(len(corpus.ids), size=min(sample, len(corpus.ids)), replace=False))
    rows = source.fetch_chunks(corpus.ids[picked].tolist())
    by_doc: dict[int, list[int]] = {}
    for position in picked:
        by_doc.setdefault(int(corpus.doc_ids[position]), []).append(int(position))
    checked = 0
    for doc_id, positions in by_doc.items():
        other = target_docs.get(source_hashes[doc_id])
        if other is None:
            continue  # reported above
        copy = target.embeddings(docs=[other.id])
        copy_rows = target.fetch_chunks(copy.ids.tolist())
        by_seq = {copy_rows[i]["seq"]: (copy_rows[i]["text"], copy.vectors[k]) for k, i in enumerate(copy.ids.tolist())}
        for position in positions:
            row = rows[int(corpus.ids[position])]
            text, vector = by_seq.get(row["seq"], (None, None))
            if text != row["text"] or vector is None or not np.array_equal(vector, corpus.vectors[position]):
                problems.append(f"passage {row['seq']} of {row['file']} differs in the copy")
            checked += 1
    return problems, checked


def _hashes(store: StoreBackend) -> dict[int, str]:
    return {d.id: d.sha256 for d in store.documents()}
