from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import GlossMatchingLoss, masked_info_nce


def _senses(seed: int = 0, dim: int = 16):
    """Two lemmas: rows 0-1 use lemma A (senses 0-2), row 2 uses lemma B (senses 3-4)."""
    g = torch.Generator().manual_seed(seed)
    towers = F.normalize(torch.randn(5, dim, generator=g), dim=-1)
    gold = torch.tensor([0, 2, 3])
    context = F.normalize(towers[gold] + 0.5 * torch.randn(3, dim, generator=g), dim=-1)
    lemma_of_sense = torch.tensor([0, 0, 0, 1, 1])
    candidates = torch.tensor([0, 0, 1])[:, None] == lemma_of_sense[None, :]
    return context, towers, gold, candidates


def test_the_softmax_runs_over_the_lemmas_senses_only():
    context, towers, gold, candidates = _senses()
    loss = GlossMatchingLoss(None)
    value = loss.compute_loss_from_embeddings(context, towers, gold, candidates)
    rows = [
        masked_info_nce(context[0:1], towers[0:3], torch.tensor([0])),
        masked_info_nce(context[1:2], towers[0:3], torch.tensor([2])),
        masked_info_nce(context[2:3], towers[3:5], torch.tensor([0])),
    ]
    torch.testing.assert_close(value, torch.stack(rows).mean())
    moved = towers.clone()
    moved[4] = context[0]  # another lemma's sense right on row 0's context: not row 0's concern
    row_0 = (context[:1], gold[:1], candidates[:1])
    torch.testing.assert_close(
        loss.compute_loss_from_embeddings(row_0[0], moved, *row_0[1:]),
        loss.compute_loss_from_embeddings(row_0[0], towers, *row_0[1:]),
    )
    oracle = loss.compute_loss_from_embeddings(towers[gold], towers, gold, candidates)
    shuffled = loss.compute_loss_from_embeddings(towers[torch.tensor([1, 0, 4])], towers, gold, candidates)
    assert oracle < value < shuffled


def test_a_lemma_with_one_sense_carries_no_signal():
    context, towers, gold, candidates = _senses()
    single = candidates.clone()
    single[2, 4] = False  # row 2's lemma now has one sense
    loss = GlossMatchingLoss(None)
    torch.testing.assert_close(
        loss.compute_loss_from_embeddings(context, towers, gold, single),
        loss.compute_loss_from_embeddings(context[:2], towers, gold[:2], candidates[:2]),
    )
    context.requires_grad_(True)
    none = loss.compute_loss_from_embeddings(context, towers, gold, F.one_hot(gold, 5).bool())
    assert none.item() == 0.0
    none.backward()  # still part of the graph


@pytest.mark.parametrize(
    ("gold", "candidates", "error", "match"),
    [
        (torch.tensor([1, 2, 3]), None, ValueError, "among its `candidates`"),
        (torch.tensor([0, 2]), None, ValueError, "`gold`"),
        (None, torch.zeros(3, 4, dtype=torch.bool), ValueError, "`candidates` must have shape"),
        (None, torch.zeros(3, 5), TypeError, "bool"),
    ],
)
def test_bad_inputs_name_the_argument(gold, candidates, error, match):
    context, towers, default_gold, default_candidates = _senses()
    default_candidates[0, 1] = False
    with pytest.raises(error, match=match):
        GlossMatchingLoss(None).compute_loss_from_embeddings(
            context, towers, default_gold if gold is None else gold,
            default_candidates if candidates is None else candidates,
        )  # fmt: skip


def test_forward_through_sentence_transformer(tiny_st):
    loss = GlossMatchingLoss(tiny_st)
    features = [
        tiny_st.tokenize(["We sat on the river bank.", "The bank raised rates.", "He threw a fast pitch."]),
        tiny_st.tokenize(["sloping land beside water", "a financial institution", "a throw of the ball"]),
    ]
    value = loss(features, torch.tensor([0, 0, 1]))  # two senses of "bank", one of "pitch" (left out)
    assert torch.isfinite(value) and value > 0
    value.backward()
    assert loss.get_config_dict() == {"scale": 20.0} and "Blevins" in loss.citation
    with pytest.raises(ValueError, match="`labels`"):
        loss(features, torch.tensor([0, 1]))
