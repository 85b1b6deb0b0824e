from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from hf_tokenembed.losses import HardNegativeMiner
from hf_tokenembed.training import HardNegativeRefreshCallback


def _circle(n: int = 12) -> torch.Tensor:
    """`n` unit vectors at 10-degree steps (an open arc): id i's nearest neighbours are i±1, then i±2, ..."""
    angles = torch.arange(n, dtype=torch.float32) * math.radians(10)
    return torch.stack([angles.cos(), angles.sin()], dim=1)


def test_mine_returns_nearest_excluding_anchor_positive_and_synonyms():
    miner = HardNegativeMiner(k=3)
    miner.refresh(_circle())
    negatives = miner.mine(torch.tensor([5, 0]), torch.tensor([6, 11]))
    assert negatives.dtype == torch.long and negatives.shape == (2, 3)
    assert negatives[0, 0].item() == 4 and set(negatives[0].tolist()) == {4, 7, 3}
    assert negatives[1].tolist() == [1, 2, 3]
    # exclusion sets (synonyms / variants) per row, or as a function of the anchor
    negatives = miner.mine(torch.tensor([5, 0]), torch.tensor([6, 11]), exclude=[{4, 7}, {1}])
    assert set(negatives[0].tolist()) == {3, 8, 2} and negatives[1].tolist() == [2, 3, 4]
    by_fn = miner.mine(torch.tensor([5, 0]), torch.tensor([6, 11]), exclude=lambda a: {4, 7} if a == 5 else {1})
    assert torch.equal(by_fn, negatives)
    for row, anchor, positive, banned in zip(negatives.tolist(), [5, 0], [6, 11], [{4, 7}, {1}]):
        assert not {anchor, positive} & set(row) and not banned & set(row)


def test_positive_outside_vocabulary_and_custom_queries():
    miner = HardNegativeMiner(k=2)
    miner.refresh(_circle())
    assert miner.mine(torch.tensor([0]), torch.tensor([-1])).tolist() == [[1, 2]]
    query = _circle()[6:7] * 3.0  # searched from id 6's direction instead
    first, second = miner.mine(torch.tensor([0]), torch.tensor([-1]), queries=query)[0].tolist()
    assert first == 6 and second in (5, 7)


def test_refresh_moves_the_neighbours():
    miner = HardNegativeMiner(k=1, refresh_every=10)
    vectors = _circle()
    miner.refresh(vectors)
    assert miner.mine(torch.tensor([0]), torch.tensor([1])).tolist() == [[2]]
    moved = vectors.clone()
    moved[9] = vectors[0]  # id 9 now sits on top of id 0
    miner.refresh(moved)
    assert miner.mine(torch.tensor([0]), torch.tensor([1])).tolist() == [[9]]
    assert miner.refresh_count == 2 and miner.vocab_size == 12
    assert miner.needs_refresh(20) and not miner.needs_refresh(15)


def test_an_anchor_is_searched_once_per_refresh(monkeypatch):
    miner = HardNegativeMiner(k=2)
    miner.refresh(_circle())
    first = miner.mine(torch.tensor([0, 11]), torch.tensor([1, 10]))
    assert first.tolist() == [[2, 3], [9, 8]]
    searched = []
    search = miner.index.search
    monkeypatch.setattr(miner.index, "search", lambda q, d: searched.append(len(q)) or search(q, d))
    again = miner.mine(torch.tensor([11, 0, 4]), torch.tensor([10, 1, 5]))
    assert again[:2].tolist() == [[9, 8], [2, 3]] and again[2, 0].item() == 3
    assert searched == [1]  # only the new anchor 4
    miner.mine(torch.tensor([0]), torch.tensor([1]), queries=_circle()[6:7])  # custom queries: never remembered
    assert searched == [1, 1]  # (test_refresh_moves_the_neighbours: a refresh forgets every anchor)


def test_precomputed_neighbours_need_no_search_per_step(monkeypatch):
    miner = HardNegativeMiner(k=2, precompute_depth=5)
    miner.refresh(_circle())
    monkeypatch.setattr(miner.index, "search", lambda q, d: pytest.fail("searched after the precompute"))
    assert miner.mine(torch.tensor([0, 11]), torch.tensor([1, 10]), exclude=[{2}, set()]).tolist() == [[3, 4], [9, 8]]


def test_bad_arguments_name_k_and_refresh():
    with pytest.raises(ValueError, match="`k`"):
        HardNegativeMiner(k=0)
    with pytest.raises(ValueError, match="`precompute_depth`"):
        HardNegativeMiner(k=2, precompute_depth=-1)
    miner = HardNegativeMiner(k=2)
    with pytest.raises(ValueError, match="refresh"):
        miner.mine(torch.tensor([0]), torch.tensor([1]))
    with pytest.raises(ValueError, match="`k`"):
        HardNegativeMiner(k=12).refresh(_circle(12))
    miner.refresh(_circle(4))
    with pytest.raises(ValueError, match="`k`"):  # only 1 candidate left after excluding anchor, positive, {2}
        miner.mine(torch.tensor([0]), torch.tensor([1]), exclude=[{2}])
    with pytest.raises(ValueError, match="anchor_ids"):
        miner.mine(torch.tensor([7]), torch.tensor([1]))
    with pytest.raises(ValueError, match="positive_ids"):
        miner.mine(torch.tensor([0, 1]), torch.tensor([1]))
    with pytest.raises(ValueError, match="exclude"):
        miner.mine(torch.tensor([0]), torch.tensor([1]), exclude=[{2}, {3}])
    with pytest.raises(ValueError, match="vectors"):
        miner.refresh(torch.ones(5))


def test_refresh_callback_on_train_begin_and_every_n_steps():
    miner = HardNegativeMiner(k=1, refresh_every=3)
    calls = []

    def encode():
        calls.append(1)
        return _circle()

    callback = HardNegativeRefreshCallback(miner, encode)
    assert callback.every_n_steps == 3
    state = SimpleNamespace(global_step=0)
    callback.on_train_begin(None, state, None)
    for step in range(1, 8):
        state.global_step = step
        callback.on_step_end(None, state, None)
    assert len(calls) == 3 and miner.refresh_count == 3  # begin, step 3, step 6
    with pytest.raises(ValueError, match="every_n_steps"):
        HardNegativeRefreshCallback(miner, encode, every_n_steps=0)


def test_a_large_vocabulary_is_searched_approximately_with_the_same_guarantees():
    """Above `exact_below` the miner searches an IVF index: still never the anchor, positive or an excluded id,
    and the negatives it finds are near ones (most of them among the exact nearest)."""
    g = torch.Generator().manual_seed(0)
    vectors = torch.nn.functional.normalize(torch.randn(2000, 16, generator=g), dim=-1)
    exact, approximate = HardNegativeMiner(k=5), HardNegativeMiner(k=5, exact_below=500, nprobe=8)
    exact.refresh(vectors)
    approximate.refresh(vectors)
    assert type(approximate.index).__name__ == "IndexIVFFlat" and type(exact.index).__name__ == "IndexFlatIP"
    anchors, positives = torch.arange(100), torch.arange(100, 200)
    banned = [{int(a) + 200} for a in anchors]
    found = approximate.mine(anchors, positives, banned)
    best = exact.mine(anchors, positives, banned)
    for row, ids in enumerate(found.tolist()):
        assert row not in ids and row + 100 not in ids and row + 200 not in ids
    overlap = sum(len(set(a) & set(b)) for a, b in zip(found.tolist(), best.tolist())) / found.numel()
    assert overlap > 0.6
