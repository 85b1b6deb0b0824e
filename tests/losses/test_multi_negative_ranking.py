from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import MultiNegativeRankingLoss, masked_info_nce


def _columns(seed: int = 0, batch: int = 4, k: int = 2, dim: int = 8) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [F.normalize(torch.randn(batch, dim, generator=g), dim=-1) for _ in range(2 + k)]


def test_matches_plain_info_nce_without_masks():
    loss = MultiNegativeRankingLoss(None, false_negative_margin=None)
    cols = _columns()
    expected = masked_info_nce(cols[0], torch.cat(cols[1:]), torch.arange(4))
    torch.testing.assert_close(loss.compute_loss_from_embeddings(cols), expected)


def test_aligned_positives_give_lower_loss():
    loss = MultiNegativeRankingLoss(None)
    cols = _columns()
    aligned = [cols[0], cols[0] + 0.01 * cols[1], *cols[2:]]
    assert loss.compute_loss_from_embeddings(aligned) < loss.compute_loss_from_embeddings(cols)


def test_group_labels_mask_equals_removal():
    loss = MultiNegativeRankingLoss(None, false_negative_margin=None, mask_in_batch_duplicates=False)
    cols = _columns(seed=3, batch=3, k=1)
    cols[1][1] = F.normalize(cols[0][0] + 0.1 * cols[1][1], dim=0)  # row 1's positive is a synonym of anchor 0
    labels = torch.tensor([7, 7, 9])  # rows 0 and 1 are one synonym group
    masked = loss.compute_loss_from_embeddings(cols, labels)
    candidates = torch.cat(cols[1:])
    keep0, keep1 = [0, 2, 3, 4, 5], [1, 2, 3, 4, 5]
    row0 = masked_info_nce(cols[0][:1], candidates[keep0], torch.tensor([0]))
    row1 = masked_info_nce(cols[0][1:2], candidates[keep1], torch.tensor([0]))
    row2 = masked_info_nce(cols[0][2:], candidates, torch.tensor([2]))
    torch.testing.assert_close(masked, (row0 + row1 + row2) / 3)
    assert masked < loss.compute_loss_from_embeddings(cols)  # the false negative stopped counting


def test_explicit_mask_and_guide_rule():
    loss = MultiNegativeRankingLoss(None, false_negative_margin=0.1, mask_in_batch_duplicates=False)
    cols = _columns(seed=4, batch=2, k=1)
    mask = torch.zeros(2, 4, dtype=torch.bool)
    mask[0, 2] = True
    with_mask = loss.compute_loss_from_embeddings(cols, false_negative_mask=mask)
    row0 = masked_info_nce(cols[0][:1], torch.cat(cols[1:])[[0, 1, 3]], torch.tensor([0]))
    row1 = masked_info_nce(cols[0][1:], torch.cat(cols[1:]), torch.tensor([1]))
    torch.testing.assert_close(with_mask, (row0 + row1) / 2)
    # a guide space that puts anchor 0's hard negative as close as its positive masks the same candidate
    e = torch.eye(4)
    guide = [e[[0, 1]], e[[0, 1]], F.normalize(e[[0, 3]] + 0.05 * e[[2, 2]], dim=-1)]
    torch.testing.assert_close(loss.compute_loss_from_embeddings(cols, guide_embeddings=guide), with_mask)
    unguided = MultiNegativeRankingLoss(None, false_negative_margin=None, mask_in_batch_duplicates=False)
    torch.testing.assert_close(
        unguided.compute_loss_from_embeddings(cols, guide_embeddings=guide),
        unguided.compute_loss_from_embeddings(cols),
    )


def test_duplicates_of_anchor_or_positive_are_masked():
    cols = _columns(seed=5, batch=3, k=1)
    cols[1] = F.normalize(cols[0] + 0.3 * cols[1], dim=-1)
    cols[2][0] = cols[1][0]  # anchor 0's "hard negative" is its own positive again
    on = MultiNegativeRankingLoss(None, false_negative_margin=None)
    off = MultiNegativeRankingLoss(None, false_negative_margin=None, mask_in_batch_duplicates=False)
    keep = [0, 1, 2, 4, 5]
    row0 = masked_info_nce(cols[0][:1], torch.cat(cols[1:])[keep], torch.tensor([0]))
    rest = masked_info_nce(cols[0][1:], torch.cat(cols[1:]), torch.tensor([1, 2]))
    torch.testing.assert_close(on.compute_loss_from_embeddings(cols), (row0 + 2 * rest) / 3)
    assert off.compute_loss_from_embeddings(cols) > on.compute_loss_from_embeddings(cols)


def test_positive_equal_to_anchor_is_rejected_row_by_row():
    """The original recipe used the word itself as its positive (`z_pos = embeds`): one such row is enough."""
    cols = _columns()
    with pytest.raises(ValueError, match="positive"):
        MultiNegativeRankingLoss(None).compute_loss_from_embeddings([cols[0], cols[0].clone(), cols[2]])
    one_row = cols[1].clone()
    one_row[2] = cols[0][2]
    with pytest.raises(ValueError, match=r"rows \[2\]"):
        MultiNegativeRankingLoss(None).compute_loss_from_embeddings([cols[0], one_row, cols[2]])


def test_a_mined_negative_in_the_anchors_group_stops_counting():
    """`candidate_labels` give the mined negatives their groups: a synonym mined for another row is masked."""
    loss = MultiNegativeRankingLoss(None, false_negative_margin=None, mask_in_batch_duplicates=False)
    cols = _columns(seed=4, batch=3, k=1)
    cols[2][1] = F.normalize(cols[0][0] + 0.1 * cols[2][1], dim=0)  # mined for row 1: a synonym of anchor 0
    labels = torch.tensor([1, 2, 3])
    candidate_labels = torch.tensor([1, 2, 3, 5, 1, 6])  # row 1's mined negative (candidate 4) is in anchor 0's group
    masked = loss.compute_loss_from_embeddings(cols, labels, candidate_labels=candidate_labels)
    candidates = torch.cat(cols[1:])
    keep = [[0, 1, 2, 3, 5], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]
    rows = [masked_info_nce(cols[0][i : i + 1], candidates[keep[i]], torch.tensor([i])) for i in range(3)]
    torch.testing.assert_close(masked, torch.stack(rows).mean())
    assert not torch.isclose(masked, loss.compute_loss_from_embeddings(cols, labels))
    with pytest.raises(ValueError, match="candidate_labels"):
        loss.compute_loss_from_embeddings(cols, labels, candidate_labels=torch.tensor([1, 2]))


def test_without_masks_it_is_sentence_transformers_mnrl():
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    cols = _columns(seed=7, batch=5, k=2)
    ours = MultiNegativeRankingLoss(None, scale=20.0, false_negative_margin=None, mask_in_batch_duplicates=False)
    theirs = MultipleNegativesRankingLoss(None, scale=20.0)
    torch.testing.assert_close(
        ours.compute_loss_from_embeddings(cols), theirs.compute_loss_from_embeddings(cols, None)
    )


def test_the_guide_rule_is_gistembeds(tiny_st, monkeypatch):
    """With a guide and one negative column, the loss is sentence-transformers' GISTEmbedLoss (anchor→candidates)."""
    from sentence_transformers.sentence_transformer.losses import gist_embed

    cols = _columns(seed=8, batch=6, k=1)
    guide = [F.normalize(c + 0.8 * g, dim=-1) for c, g in zip(cols, _columns(seed=9, batch=6, k=1))]
    embedded = iter([cols, guide])  # GISTEmbedLoss embeds with the model, then with the guide
    monkeypatch.setattr(gist_embed, "embed_columns", lambda model, features: next(embedded))
    theirs = gist_embed.GISTEmbedLoss(
        tiny_st, tiny_st, temperature=0.05, margin=0.1, contrast_anchors=False, contrast_positives=False
    )
    ours = MultiNegativeRankingLoss(None, scale=20.0, false_negative_margin=0.1, mask_in_batch_duplicates=False)
    guided = ours.compute_loss_from_embeddings(cols, guide_embeddings=guide)
    torch.testing.assert_close(guided, theirs([{}, {}, {}], None))
    assert not torch.isclose(guided, ours.compute_loss_from_embeddings(cols))  # the guide masked something


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scale": 0}, ValueError, "scale"),
        ({"scale": -3.0}, ValueError, "scale"),
        ({"false_negative_margin": "0.1"}, TypeError, "false_negative_margin"),
        ({"false_negative_margin": 5.0}, ValueError, "false_negative_margin"),
        ({"mask_in_batch_duplicates": 1}, TypeError, "mask_in_batch_duplicates"),
        ({"guide": "model"}, TypeError, "guide"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        MultiNegativeRankingLoss(None, **kwargs)


def test_bad_embeddings_and_labels():
    loss = MultiNegativeRankingLoss(None)
    cols = _columns()
    with pytest.raises(ValueError, match="embeddings"):
        loss.compute_loss_from_embeddings(cols[:1])
    with pytest.raises(ValueError, match=r"embeddings\[2\]"):
        loss.compute_loss_from_embeddings([cols[0], cols[1], cols[2][:3]])
    with pytest.raises(ValueError, match="labels"):
        loss.compute_loss_from_embeddings(cols, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="false_negative_mask"):
        loss.compute_loss_from_embeddings(cols, false_negative_mask=torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="guide_embeddings"):
        loss.compute_loss_from_embeddings(cols, guide_embeddings=cols[:2])


def test_config_and_citation():
    loss = MultiNegativeRankingLoss(None, scale=10.0)
    assert loss.get_config_dict() == {
        "scale": 10.0,
        "false_negative_margin": 0.1,
        "guide": None,
        "mask_in_batch_duplicates": True,
    }
    assert "Smart Reply" in loss.citation and "GISTEmbed" in loss.citation


TEXTS = [["bank", "car", "dog", "tree"], ["river bank", "automobile", "puppy", "oak"], ["shore", "bus", "cat", "bush"]]


def test_forward_through_sentence_transformer(tiny_st):
    loss = MultiNegativeRankingLoss(tiny_st)
    value = loss([tiny_st.tokenize(t) for t in TEXTS], torch.tensor([0, 1, 2, 3]))
    assert value.ndim == 0 and torch.isfinite(value) and value > 0
    value.backward()
    grads = [p.grad for p in tiny_st.parameters() if p.requires_grad]
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)


def test_forward_with_guide_masks_and_never_trains_it(tiny_st):
    guide = copy.deepcopy(tiny_st).eval()
    tiny_st.eval()  # no dropout: guided and unguided see the same vectors
    features = [tiny_st.tokenize(t) for t in TEXTS]
    guided = MultiNegativeRankingLoss(tiny_st, guide=guide)([dict(f) for f in features])
    plain = MultiNegativeRankingLoss(tiny_st)([dict(f) for f in features])
    # masking only removes candidates from the softmax; an untrained model scores every pair high, so its own copy
    # as guide masks most of them
    assert torch.isfinite(guided) and guided <= plain
    guided.backward()
    assert all(p.grad is None for p in guide.parameters())


def test_sentence_transformer_trainer_runs(tiny_st, tmp_path):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    words = ["bank", "car", "dog", "tree", "house", "river", "apple", "music"]
    views = ["river bank", "automobile", "puppy", "oak", "home", "stream", "fruit", "song"]
    dataset = Dataset.from_dict({"anchor": words, "positive": views})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, report_to="none", use_cpu=True
    )
    before = [p.detach().clone() for p in tiny_st.parameters() if p.requires_grad]
    trainer = SentenceTransformerTrainer(
        model=tiny_st, args=args, train_dataset=dataset, loss=MultiNegativeRankingLoss(tiny_st)
    )
    output = trainer.train()
    assert output.global_step == 2 and torch.isfinite(torch.tensor(output.training_loss))
    after = [p.detach() for p in tiny_st.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
