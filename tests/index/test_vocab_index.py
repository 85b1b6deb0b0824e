from __future__ import annotations

import json
import os

import faiss
import numpy as np
import pytest
import torch

from hf_tokenembed.index import IndexEntry, Neighbor, VocabIndex, VocabIndexConfig, faiss_threads
from hf_tokenembed.index import vocab_index as vocab_index_module

N, D = 300, 16


def _data(n: int = N, d: int = D, seed: int = 0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    entries = [IndexEntry(f"w{i}", "word", i) for i in range(n)]
    return x, entries


def _index(index_type: str = "exact", **kwargs) -> tuple[VocabIndex, np.ndarray]:
    x, entries = _data()
    config = VocabIndexConfig(index_type=index_type, pq_nbits=4, **kwargs)
    return VocabIndex.from_vectors(torch.from_numpy(x), entries, config, fingerprint="fp-1"), x


def test_exact_search_matches_brute_force():
    index, x = _index()
    assert len(index) == N and index.dim == D and index.index_type == "exact"
    q = x[:5] + 0.01
    results = index.search(q, k=4)
    assert len(results) == 5 and all(len(r) == 4 for r in results)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    brute = np.argsort(-(qn @ x.T), axis=1)[:, :4]
    for qi, (row, ids) in enumerate(zip(results, brute)):
        assert [n.entry.surface for n in row] == [f"w{i}" for i in ids]
        scores = [n.score for n in row]
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, qn[qi] @ x[ids].T, atol=1e-5)  # cosine similarities
    hits = index.search(x[7], k=3)  # one 1-D vector -> one list
    assert isinstance(hits[0], Neighbor)
    entry, score = hits[0]
    assert entry.surface == "w7" and score == pytest.approx(1.0, abs=1e-5)
    # list input and unnormalised queries give the same answer
    assert index.search((x[7] * 3).tolist(), k=3) == hits


@pytest.mark.parametrize("index_type", ["hnsw", "ivfpq"])
def test_approximate_indexes_find_self(index_type):
    index, x = _index(index_type, ivf_nprobe=8)
    assert index.index_type == index_type
    results = index.search(x[:50], k=5)
    agree = np.mean([f"w{i}" in [n.entry.surface for n in r] for i, r in enumerate(results)])
    assert agree >= (0.95 if index_type == "hnsw" else 0.6)


@pytest.mark.parametrize("index_type", ["exact", "hnsw", "ivfpq"])
def test_save_load_round_trip_identical(tmp_path, index_type):
    index, x = _index(index_type)
    q = x[:20] + 0.05
    before_scores, before_ids = index.search_ids(q, k=10)
    before = index.search(q, k=10)
    path = index.save(tmp_path / "model" / "vocab_index")
    assert sorted(os.listdir(path)) == ["entries.jsonl", "index.faiss", "index_config.json"]
    meta = json.loads((tmp_path / "model" / "vocab_index" / "index_config.json").read_text())
    assert meta["dim"] == D and meta["metric"] == "inner_product" and meta["fingerprint"] == "fp-1"
    assert meta["index_type"] == index_type and meta["faiss_version"] == faiss.__version__
    assert meta["num_entries"] == N and meta["faiss_index_class"].startswith("Index")
    loaded = VocabIndex.load(path, fingerprint="fp-1")
    after_scores, after_ids = loaded.search_ids(q, k=10)
    np.testing.assert_array_equal(before_ids, after_ids)
    np.testing.assert_array_equal(before_scores, after_scores)
    assert loaded.search(q, k=10) == before
    assert loaded.entries == index.entries and loaded.config == index.config
    # saving again over the existing index replaces it
    index.save(path)
    assert VocabIndex.load(path).search(q[0], k=3) == before[0][:3]


def test_load_checks_fingerprint(tmp_path, embedder):
    x, entries = _data(d=embedder.token_dim)
    index = VocabIndex.from_vectors(x, entries, fingerprint=embedder.fingerprint())
    index.save(tmp_path / "idx")
    assert len(VocabIndex.load(tmp_path / "idx", embedder=embedder)) == N
    other = type(embedder)(tag="other-model")
    with pytest.raises(ValueError, match="fingerprint"):
        VocabIndex.load(tmp_path / "idx", embedder=other)
    with pytest.raises(ValueError, match="dimension|-d"):
        VocabIndex.load(tmp_path / "idx", embedder=type(embedder)(dim=8))
    with pytest.raises(FileNotFoundError, match="index_config.json"):
        VocabIndex.load(tmp_path / "nothing-here")


def test_load_detects_corruption(tmp_path):
    index, _ = _index()
    path = index.save(tmp_path / "idx")
    with open(os.path.join(path, "entries.jsonl"), "a") as f:
        f.write('{"surface": "extra"}\n')
    with pytest.raises(ValueError, match="checksum"):
        VocabIndex.load(path)


@pytest.mark.parametrize(
    ("query", "error", "match"),
    [
        (np.zeros(D + 1, dtype=np.float32) + 1, ValueError, "vectors has dimension 17"),
        (np.full(D, np.nan, dtype=np.float32), ValueError, "vectors contains NaN"),
        (np.array([[1.0] * D, [np.inf] * D], dtype=np.float32), ValueError, "vectors contains NaN or infinite"),
        (np.zeros(D, dtype=np.float32), ValueError, "vectors has a zero-norm"),
        (np.zeros((0, D), dtype=np.float32), ValueError, "vectors is empty"),
        (np.ones((2, 2, D), dtype=np.float32), ValueError, "vectors must be 1-D"),
        ("bank", TypeError, "vectors"),
        (np.array(["a"] * D), TypeError, "vectors"),
    ],
)
def test_bad_queries_raise_clear_errors(query, error, match):
    index, _ = _index()
    with pytest.raises(error, match=match):
        index.search(query, k=3)


@pytest.mark.parametrize(
    ("k", "error", "match"),
    [
        (0, ValueError, "k must be positive"),
        (-2, ValueError, "k must be positive"),
        (N + 1, ValueError, "k=301 is larger than the index"),
        (2.0, TypeError, "k must be an int"),
        (True, TypeError, "k must be an int"),
    ],
)
def test_bad_k(k, error, match):
    index, x = _index()
    with pytest.raises(error, match=match):
        index.search(x[0], k=k)
    assert len(index.search(x[0], k=N)) == N  # k == len is fine


def test_bad_build_inputs():
    x, entries = _data()
    with pytest.raises(ValueError, match="entries is empty"):
        VocabIndex.from_vectors(np.zeros((0, D), np.float32), [])
    with pytest.raises(ValueError, match="vectors is empty"):
        VocabIndex.from_vectors(np.zeros((0, D), np.float32), entries[:1])
    with pytest.raises(ValueError, match="300 rows but entries has 299"):
        VocabIndex.from_vectors(x, entries[:-1])
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="vectors contains NaN"):
        VocabIndex.from_vectors(bad, entries)
    with pytest.raises(TypeError, match="config"):
        VocabIndex.from_vectors(x, entries, config={"index_type": "exact"})
    with pytest.raises(TypeError, match=r"entries\[0\]"):
        VocabIndex.from_vectors(x[:1], ["w0"])
    with pytest.raises(ValueError, match="ivfpq needs at least"):
        VocabIndex.from_vectors(x[:10], entries[:10], VocabIndexConfig(index_type="ivfpq"))


def test_interrupted_save_leaves_nothing_that_loads(tmp_path, monkeypatch):
    index, x = _index()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(vocab_index_module, "save_entries", boom)
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path / "idx")
    assert os.listdir(tmp_path) == []  # no index, no temp folder left behind
    with pytest.raises(FileNotFoundError):
        VocabIndex.load(tmp_path / "idx")


def test_interrupted_overwrite_keeps_the_old_index(tmp_path, monkeypatch):
    old, x = _index()
    old.save(tmp_path / "idx")
    expected = old.search(x[0], k=5)
    new = VocabIndex.from_vectors(x[::-1].copy(), old.entries, fingerprint="fp-2")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vocab_index_module.faiss, "write_index", boom)
    with pytest.raises(KeyboardInterrupt):
        new.save(tmp_path / "idx")
    assert os.listdir(tmp_path) == ["idx"]
    loaded = VocabIndex.load(tmp_path / "idx", fingerprint="fp-1")
    assert loaded.search(x[0], k=5) == expected


def test_save_refuses_to_replace_a_non_index_folder(tmp_path):
    index, _ = _index()
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="holds no index"):
        index.save(tmp_path / "model")
    assert os.listdir(tmp_path / "model") == ["config.json"]


def test_single_query_uses_one_thread_and_restores(monkeypatch):
    index, x = _index()
    seen = []
    real_search = index._search_index.search

    class Spy:
        def search(self, q, k):
            seen.append((q.shape[0], faiss.omp_get_max_threads()))
            return real_search(q, k)

    before = faiss.omp_get_max_threads()
    index._search_index = Spy()
    index.search(x[0], k=2)
    index.search(x[:4], k=2)
    assert seen[0] == (1, 1)
    assert seen[1] == (4, before)
    assert faiss.omp_get_max_threads() == before
    with faiss_threads(1):
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before


def test_find_and_reconstruct():
    index, x = _index("ivfpq")
    assert index.find("w3") == [3]
    assert index.find("w3", kind="sense") == []
    rec = index.reconstruct([3, 4])
    assert rec.shape == (2, D)
    exact, _ = _index()
    np.testing.assert_allclose(exact.reconstruct([3]), x[3:4], atol=1e-6)
    with pytest.raises(ValueError, match="ids"):
        exact.reconstruct([N])


def test_use_gpu_true_without_gpu_is_a_clear_error():
    if vocab_index_module.gpu_available():
        pytest.skip("a GPU is available")
    x, entries = _data()
    with pytest.raises(ValueError, match="use_gpu"):
        VocabIndex.from_vectors(x, entries, VocabIndexConfig(use_gpu=True))
