"""The vector index: normalised float32 vectors and int64 ids in, ids and inner-product scores out.

It knows nothing of where the vectors are stored: a store hands it arrays and ids (and, to catch up
or check, a function giving the vectors of some ids), and keeps the transactions and the source of
truth itself. Thread safety is the caller's (the store searches and writes under one lock).

The index is built from a factory string (:class:`IndexPolicy`): exact inner product on
normalised vectors (``IDMap,Flat``) up to ``approximate_from`` vectors (20k), then inverted files
(``IDMap,IVF256,Flat``, and ``IDMap,IVF2048,Flat`` from 200k), where exact search would cost a
noticeable share of a query (see ``bench/results/search_latency.json`` for the measured latency
and recall@10 against exact search).

On disk an index is one file per generation, ``index-g00000042.faiss`` (:class:`IndexFiles`),
written atomically (temporary file, fsync, rename), so a reader never sees half a file.

Example::

    >>> policy = IndexPolicy()
    >>> index = VectorIndex.build(policy, ids, vectors)          # ids (n,) int64, vectors (n, d)
    >>> found_ids, scores = index.search(query, 10)               # best first
    >>> IndexFiles(folder).write(index, generation=42)
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

VectorsOf = Callable[[np.ndarray], np.ndarray]
"""The vectors of the given ids, in that order, as an (n, dim) float32 matrix."""


@dataclass(frozen=True)
class IndexPolicy:
    """How the FAISS index is built, as factory strings (inner product on normalised vectors).

    Three tiers by store size, measured in ``bench/search_latency.py`` (latency and recall@10
    against exact search, ``bench/results/search_latency.json``). Inverted files rather than HNSW
    for the approximate tiers: on 100k clustered e5 vectors IVF1024 at nprobe 32 kept recall@10 at
    0.999 for 1.1 ms a query where HNSW32 needed efSearch 512 (4.3 ms) for 0.988; IVF builds
    3.5x faster and deletes in place, where HNSW must be rebuilt. Any factory string works here.

    Args:
        exact: factory below ``approximate_from`` chunks (default ``IDMap,Flat``).
        approximate: factory from ``approximate_from`` chunks on (default ``IDMap,IVF256,Flat``).
        approximate_from: store size in chunks where exact search starts to cost a noticeable share
            of a query (about 3 ms at 20k chunks on one core, against 20-50 ms to encode a query).
        large: factory from ``large_from`` chunks on (default ``IDMap,IVF2048,Flat``): more lists
            keep the share of the store a query scans small as it grows (at 1M chunks, nprobe 24 of
            2048 lists: recall@10 0.9997 for about 2 ms on one core; IVF1024 needed 15 ms at nprobe 32).
        large_from: store size where ``large`` takes over (the index is rebuilt and retrained once).
        nprobe: inverted lists an IVF search visits below ``large_from``.
        large_nprobe: inverted lists an IVF search visits from ``large_from`` on.
        ef_search: HNSW search depth (when a factory names HNSW).
        ef_construction: HNSW build depth.
        exact_filter_max: with a language/document filter matching at most this many chunks, the
            store scores those chunks exactly from their stored embeddings (:func:`exact_search`)
            instead of searching the index with a selector.
    """

    exact: str = "IDMap,Flat"
    approximate: str = "IDMap,IVF256,Flat"
    approximate_from: int = 20_000
    large: str = "IDMap,IVF2048,Flat"
    large_from: int = 200_000
    nprobe: int = 32
    large_nprobe: int = 24
    ef_search: int = 512
    ef_construction: int = 80
    exact_filter_max: int = 20_000

    def factory_for(self, n_chunks: int) -> str:
        if n_chunks >= self.large_from:
            return self.large
        return self.approximate if n_chunks >= self.approximate_from else self.exact

    def build(self, dim: int, n_chunks: int) -> faiss.Index:
        """An empty index for a store of ``n_chunks``, with its search parameters set (IVF still untrained)."""
        index = faiss.index_factory(dim, self.factory_for(n_chunks), faiss.METRIC_INNER_PRODUCT)
        self.configure(index)
        return index

    def configure(self, index: faiss.Index) -> None:
        """Set the search-time parameters of a filled or loaded index (they depend on its size)."""
        inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efConstruction = self.ef_construction
            inner.hnsw.efSearch = self.ef_search
        if isinstance(inner, faiss.IndexIVF):
            inner.nprobe = self.large_nprobe if index.ntotal >= self.large_from else self.nprobe

    def train(self, index: faiss.Index, vectors: np.ndarray, *, seed: int = 0) -> None:
        """Train an IVF index on a sample (about 64 vectors per list; faiss wants at least 39)."""
        if index.is_trained:
            return
        rng = np.random.default_rng(seed)
        sample = vectors if len(vectors) <= 65_536 else vectors[rng.choice(len(vectors), 65_536, replace=False)]
        index.train(np.ascontiguousarray(sample, dtype="float32"))


def exact_search(query: np.ndarray, ids: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``vectors`` with the highest inner product with ``query``: (ids, scores), best first.

    For a small filtered set, scoring every vector beats searching the whole index with a selector.
    """
    scores = vectors @ np.asarray(query, dtype="float32").reshape(-1)
    top = np.argsort(-scores, kind="stable")[:k]
    return ids[top], scores[top]


@dataclass(frozen=True)
class Consistency:
    """How an index compares with the ids it should hold (:meth:`VectorIndex.check`).

    ``ids_differ`` is only judged when the counts agree; ``vectors_match`` (a sample of the given
    vectors each finds itself first) is None when it was not checked.
    """

    vectors: int
    expected: int
    ids_differ: bool
    vectors_match: bool | None

    @property
    def ok(self) -> bool:
        return self.vectors == self.expected and not self.ids_differ and self.vectors_match is not False


class VectorIndex:
    """A FAISS index over normalised vectors keyed by int64 ids, with the policy that built it."""

    def __init__(self, index: faiss.Index, policy: IndexPolicy) -> None:
        self.faiss_index = index
        self.policy = policy

    @classmethod
    def build(cls, policy: IndexPolicy, ids: np.ndarray, vectors: np.ndarray, *, dim: int = 384) -> VectorIndex:
        """An index holding ``vectors`` under ``ids``, its factory chosen by their number (trained if IVF).

        ``dim`` is used only when there are no vectors to take it from.
        """
        dim = vectors.shape[1] if len(vectors) else dim
        index = policy.build(dim, len(ids))
        if len(ids):
            vectors = np.ascontiguousarray(vectors, dtype="float32")
            faiss.normalize_L2(vectors)  # stored vectors are normalised already; this guards imports
            policy.train(index, vectors)
            index.add_with_ids(vectors, ids)
            policy.configure(index)
        return cls(index, policy)

    @classmethod
    def read(cls, path: Path, policy: IndexPolicy) -> VectorIndex:
        """Load an index file and set its search parameters.

        Raises:
            RuntimeError: the file is missing or is not a FAISS index (FAISS's own error).
        """
        index = faiss.read_index(str(path))
        policy.configure(index)
        return cls(index, policy)

    @property
    def ntotal(self) -> int:
        return self.faiss_index.ntotal

    @property
    def dim(self) -> int:
        return self.faiss_index.d

    def ids(self) -> np.ndarray | None:
        """The ids held, in the index's order; None for an index without an id map."""
        index = self.faiss_index
        return faiss.vector_to_array(index.id_map) if isinstance(index, faiss.IndexIDMap) else None

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add normalised ``vectors`` under ``ids`` (an IVF index must be trained already)."""
        self.faiss_index.add_with_ids(np.ascontiguousarray(vectors, dtype="float32"),
                                      np.ascontiguousarray(ids, dtype="int64"))

    def remove(self, ids: np.ndarray) -> bool:
        """Remove ``ids``; False when this kind of index cannot remove (HNSW: rebuild it instead)."""
        try:
            self.faiss_index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype="int64")))
        except RuntimeError:
            return False
        return True

    def catch_up(self, ids: np.ndarray, vectors_of: VectorsOf) -> bool:
        """Make the index hold exactly ``ids``: remove the others, add the missing ones (from ``vectors_of``).

        Returns False, leaving the caller to rebuild from scratch, when the index has no id map or
        cannot remove ids (HNSW).
        """
        indexed = self.ids()
        if indexed is None:
            return False
        extra = np.setdiff1d(indexed, ids)
        missing = np.setdiff1d(ids, indexed)
        if len(extra) and not self.remove(extra):
            return False
        if len(missing):
            self.add(missing, vectors_of(missing))
        self.policy.configure(self.faiss_index)
        return True

    def search(self, query: np.ndarray, k: int, *, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest ids to one normalised query vector and their inner products, best first.

        With ``among``, only those ids are candidates (a FAISS id selector), so filtered results are
        never fewer than the index can give. Fewer than ``k`` come back when the index holds fewer.
        """
        if self.ntotal == 0:
            return np.zeros(0, dtype="int64"), np.zeros(0, dtype="float32")
        query = np.ascontiguousarray(query, dtype="float32").reshape(1, -1)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(among, dtype="int64")) if among is not None else None
        params = self._search_params(selector) if selector is not None else None
        D, I = self.faiss_index.search(query, k, params=params)  # (1, k); label -1 = none
        found = I[0] >= 0
        return I[0][found], D[0][found]

    def _search_params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        index = self.faiss_index
        inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
        if isinstance(inner, faiss.IndexHNSW):
            # A selective filter leaves HNSW fewer reachable neighbours: search deeper.
            return faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.policy.ef_search, 512))
        if isinstance(inner, faiss.IndexIVF):
            return faiss.SearchParametersIVF(sel=selector, nprobe=max(self.policy.nprobe, 128))
        return faiss.SearchParameters(sel=selector)

    def check(self, ids: np.ndarray, vectors_of: VectorsOf | None = None) -> Consistency:
        """Compare the index with the ids it should hold; with ``vectors_of``, and when the ids agree,
        also check that each of a sample of those vectors (up to 5) finds itself first."""
        ids = np.sort(np.asarray(ids, dtype="int64"))
        n, ntotal = len(ids), self.ntotal
        indexed = self.ids()
        indexed = np.sort(indexed) if indexed is not None else np.zeros(0, dtype="int64")
        ids_differ = len(indexed) == n and not np.array_equal(indexed, ids)
        match = None
        if vectors_of is not None and n and ntotal == n and not ids_differ:
            sample = ids[np.linspace(0, n - 1, num=min(n, 5)).astype(int)]
            vectors = vectors_of(sample)
            _, labels = self.faiss_index.search(vectors, 1)
            scores = np.einsum("ij,ij->i", vectors, vectors_of(labels[:, 0])) if (labels >= 0).all() else None
            # A vector must find itself, or an exact duplicate of itself (repeated boilerplate).
            match = scores is not None and not (scores < 0.9999).any()
        return Consistency(vectors=ntotal, expected=n, ids_differ=ids_differ, vectors_match=match)


class IndexFiles:
    """The index files of one folder, one per generation: ``index-g00000042.faiss``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, generation: int) -> Path:
        return self.folder / f"index-g{generation:08d}.faiss"

    def generations(self) -> list[tuple[int, Path]]:
        """The index files present, oldest generation first."""
        found = []
        for path in self.folder.glob("index-g*.faiss"):
            with contextlib.suppress(ValueError):
                found.append((int(path.stem.removeprefix("index-g")), path))
        return sorted(found)

    def read_newest(self, policy: IndexPolicy) -> VectorIndex | None:
        """The index of the newest generation whose file reads, or None."""
        for _, path in reversed(self.generations()):
            try:
                return VectorIndex.read(path, policy)
            except RuntimeError:
                continue
        return None

    def write(self, index: VectorIndex, generation: int, *,
              before_rename: Callable[[], None] | None = None) -> Path:
        """Write ``index`` as ``generation`` atomically: temporary file, fsync, rename, fsync the folder.

        ``before_rename`` runs once the temporary file is durable and before it takes the final
        name (the store's crash test stops the process there).
        """
        final = self.path(generation)
        tmp = final.with_suffix(".faiss.tmp")
        faiss.write_index(index.faiss_index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename()
        os.replace(tmp, final)
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.folder, os.O_RDONLY)
            os.fsync(dir_fd)
            os.close(dir_fd)
        return final

    def remove_all_but(self, keep: int) -> None:
        """Delete the files of every other generation and any temporary file left by a crash."""
        for generation, path in self.generations():
            if generation != keep:
                path.unlink(missing_ok=True)
        for tmp in self.folder.glob("*.faiss.tmp"):
            tmp.unlink(missing_ok=True)
