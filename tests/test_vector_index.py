"""app.vector_index alone: arrays and ids in, ids and scores out; no SQLite anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import faiss
import numpy as np
import pytest

from app.vector_index import IndexFiles, IndexPolicy, VectorIndex, exact_search

DIM = 32


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, DIM)).astype("float32")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sparse_ids(n: int, seed: int = 1) -> np.ndarray:
    """Ids that are not row numbers, as SQLite rowids after deletes are not."""
    return np.sort(np.random.default_rng(seed).choice(10**9, size=n, replace=False)).astype("int64")


def brute_force(query: np.ndarray, ids: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ query
    top = np.argsort(-scores)[:k]
    return ids[top], scores[top]


def lookup(ids: np.ndarray, vectors: np.ndarray):
    rows = {int(i): r for r, i in enumerate(ids)}
    return lambda wanted: vectors[[rows[int(i)] for i in wanted]]


def test_the_module_knows_nothing_of_sqlite():
    source = Path(__file__).resolve().parent.parent / "app" / "vector_index.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not {name for name in imported if "sqlite" in name or name.startswith("app.")}, imported


def test_exact_search_equals_brute_force_inner_product():
    ids, vectors = sparse_ids(300), unit_vectors(300)
    index = VectorIndex.build(IndexPolicy(), ids, vectors.copy())
    assert "Flat" in IndexPolicy().factory_for(300)
    assert index.ntotal == 300
    assert index.dim == DIM
    for query in unit_vectors(10, seed=7):
        want_ids, want_scores = brute_force(query, ids, vectors, 10)
        got_ids, got_scores = index.search(query, 10)
        np.testing.assert_array_equal(got_ids, want_ids)
        np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-6)
        plain_ids, plain_scores = exact_search(query, ids, vectors, 10)
        np.testing.assert_array_equal(plain_ids, want_ids)
        np.testing.assert_allclose(plain_scores, want_scores, rtol=1e-5, atol=1e-6)


def test_policy_defaults_exact_below_20k_ivf_above():
    policy = IndexPolicy()
    assert policy.factory_for(0) == policy.factory_for(19_999) == "IDMap,Flat"
    assert policy.factory_for(20_000) == policy.factory_for(199_999) == "IDMap,IVF256,Flat"
    assert policy.factory_for(200_000) == "IDMap,IVF2048,Flat"
    assert (policy.nprobe, policy.large_nprobe, policy.exact_filter_max) == (32, 24, 20_000)


def test_policy_builds_exact_below_the_threshold_and_ivf_above():
    policy = IndexPolicy(approximate="IDMap,IVF4,Flat", approximate_from=100, large="IDMap,IVF8,Flat",
                         large_from=400, nprobe=2, large_nprobe=3)
    small = VectorIndex.build(policy, sparse_ids(99), unit_vectors(99))
    assert isinstance(faiss.downcast_index(small.faiss_index.index), faiss.IndexFlat)
    for n, nlist, nprobe in [(100, 4, 2), (400, 8, 3)]:
        ids, vectors = sparse_ids(n), unit_vectors(n)
        index = VectorIndex.build(policy, ids, vectors.copy())
        ivf = faiss.extract_index_ivf(index.faiss_index)
        assert (ivf.nlist, ivf.nprobe, ivf.is_trained, index.ntotal) == (nlist, nprobe, True, n)
        found, scores = index.search(vectors[5], 1)
        assert found[0] == ids[5]
        assert scores[0] == pytest.approx(1.0, abs=1e-5)


def test_add_remove_and_search():
    ids, vectors = sparse_ids(200), unit_vectors(200)
    index = VectorIndex.build(IndexPolicy(), ids[:150], vectors[:150])
    index.add(ids[150:], vectors[150:])
    assert index.remove(ids[:50])
    kept_ids, kept = ids[50:], vectors[50:]
    assert sorted(index.ids().tolist()) == kept_ids.tolist()
    query = vectors[10]  # removed: must not come back
    got, _ = index.search(query, 20)
    np.testing.assert_array_equal(got, brute_force(query, kept_ids, kept, 20)[0])
    among = kept_ids[::7]
    got, scores = index.search(query, 5, among=among)
    want, want_scores = brute_force(query, among, vectors[50:][::7], 5)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5, atol=1e-6)
    assert len(index.search(query, 500)[0]) == 150  # fewer than k when the index holds fewer
    empty = VectorIndex.build(IndexPolicy(), np.zeros(0, dtype="int64"), np.zeros((0, DIM), "float32"), dim=DIM)
    assert empty.dim == DIM
    assert [len(a) for a in empty.search(query, 3)] == [0, 0]


def test_catch_up_adds_the_missing_removes_the_extra_and_refuses_hnsw():
    ids, vectors = sparse_ids(120), unit_vectors(120)
    vectors_of = lookup(ids, vectors)
    index = VectorIndex.build(IndexPolicy(), ids[:80], vectors[:80])
    target = np.concatenate([ids[20:80], ids[100:]])
    assert index.catch_up(target, vectors_of)
    assert sorted(index.ids().tolist()) == sorted(target.tolist())
    assert index.check(target, vectors_of).ok
    hnsw = VectorIndex.build(IndexPolicy(exact="IDMap,HNSW16"), ids[:80], vectors[:80])
    assert not hnsw.remove(ids[:1])
    assert not hnsw.catch_up(ids[10:80], vectors_of)


def test_a_generation_file_is_written_atomically_and_read_back(tmp_path):
    ids, vectors = sparse_ids(100), unit_vectors(100)
    index = VectorIndex.build(IndexPolicy(), ids, vectors)
    files = IndexFiles(tmp_path)
    seen = []

    def before_rename() -> None:  # the temporary file is complete; the final name does not exist yet
        seen.append((files.path(42).exists(), sorted(p.name for p in tmp_path.iterdir())))

    path = files.write(index, 42, before_rename=before_rename)
    assert path == tmp_path / "index-g00000042.faiss"
    assert seen == [(False, ["index-g00000042.faiss.tmp"])]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index-g00000042.faiss"]
    again = VectorIndex.read(path, IndexPolicy())
    assert sorted(again.ids().tolist()) == ids.tolist()
    np.testing.assert_array_equal(again.search(vectors[3], 5)[0], index.search(vectors[3], 5)[0])
    # the newest readable generation wins; the rest go, with any temporary file left by a crash
    files.write(VectorIndex.build(IndexPolicy(), ids[:10], vectors[:10]), 7)
    files.path(43).write_bytes(b"not a faiss index")
    (tmp_path / "index-g00000044.faiss.tmp").write_bytes(b"half")
    assert [g for g, _ in files.generations()] == [7, 42, 43]
    with pytest.raises(RuntimeError):
        VectorIndex.read(files.path(43), IndexPolicy())
    assert files.read_newest(IndexPolicy()).ntotal == 100
    files.remove_all_but(42)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index-g00000042.faiss"]


def test_the_consistency_check_reports_mismatches():
    ids, vectors = sparse_ids(50), unit_vectors(50)
    index = VectorIndex.build(IndexPolicy(), ids, vectors)
    good = index.check(ids[::-1], lookup(ids, vectors))  # order does not matter
    assert good.ok
    assert (good.vectors, good.expected, good.ids_differ, good.vectors_match) == (50, 50, False, True)
    other = ids.copy()
    other[0] += 1  # as many ids, one of them not in the index
    differ = index.check(other, lookup(other, vectors))
    assert not differ.ok
    assert differ.ids_differ
    assert differ.vectors_match is None
    fewer = index.check(ids[:-1])
    assert not fewer.ok
    assert (fewer.vectors, fewer.expected, fewer.ids_differ) == (50, 49, False)
    wrong = index.check(ids, lookup(ids, unit_vectors(50, seed=9)))  # stored vectors that are not the indexed ones
    assert not wrong.ok
    assert wrong.vectors_match is False
    assert index.check(ids).vectors_match is None  # no vectors given: ids only
