from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import SynonymAwareContrastiveLoss, masked_info_nce


def _synonym_batch():
    """Rows 0 and 1 are synonyms (car / automobile): the embeddings put their views close together."""
    g = torch.Generator().manual_seed(0)
    anchors = F.normalize(torch.randn(4, 16, generator=g), dim=-1)
    anchors[1] = F.normalize(anchors[0] + 0.2 * anchors[1], dim=0)
    positives = F.normalize(anchors + 0.1 * torch.randn(4, 16, generator=g), dim=-1)
    return anchors, positives


def test_synonym_as_soft_positive_lowers_the_loss():
    anchors, positives = _synonym_batch()
    loss = SynonymAwareContrastiveLoss(None, synonym_share=0.3, related_share=0.1)
    relations = torch.eye(4) * 2
    as_negative = loss.compute_loss_from_embeddings([anchors, positives], relations)
    relations[0, 1] = relations[1, 0] = 1.0
    as_synonym = loss.compute_loss_from_embeddings([anchors, positives], relations)
    assert as_synonym < as_negative
    # (B,) synonym-group ids give the same relation matrix
    groups = torch.tensor([5, 5, 6, 7])
    torch.testing.assert_close(loss.compute_loss_from_embeddings([anchors, positives], groups), as_synonym)


def test_soft_target_rows():
    loss = SynonymAwareContrastiveLoss(None, synonym_share=0.3, related_share=0.1)
    relations = torch.tensor(
        [
            [2.0, 1.0, 1.0, 0.5],
            [0.0, 2.0, 0.5, 0.0],
            [0.0, 0.0, 2.0, 0.0],
            [1.0, 0.0, 0.0, 2.0],
        ]
    )
    targets = loss.soft_targets(relations, n_candidates=6)
    expected = torch.tensor(
        [
            [0.6, 0.15, 0.15, 0.1, 0, 0],  # positive 1 - 0.3 - 0.1, two synonyms share 0.3, one related word 0.1
            [0.0, 0.9, 0.1, 0.0, 0, 0],  # no synonyms: their share goes back to the positive
            [0.0, 0.0, 1.0, 0.0, 0, 0],  # neither: plain InfoNCE
            [0.3, 0.0, 0.0, 0.7, 0, 0],
        ]
    )
    torch.testing.assert_close(targets, expected)
    torch.testing.assert_close(targets.sum(1), torch.ones(4))


def test_without_labels_is_plain_info_nce_with_extra_negatives():
    anchors, positives = _synonym_batch()
    negatives = F.normalize(torch.randn(4, 16), dim=-1)
    loss = SynonymAwareContrastiveLoss(None, scale=10.0)
    expected = masked_info_nce(anchors, torch.cat([positives, negatives]), torch.arange(4), scale=10.0)
    torch.testing.assert_close(loss.compute_loss_from_embeddings([anchors, positives, negatives]), expected)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scale": 0.0}, ValueError, "scale"),
        ({"synonym_share": 1.0}, ValueError, "synonym_share"),
        ({"synonym_share": -0.1}, ValueError, "synonym_share"),
        ({"related_share": 1.5}, ValueError, "related_share"),
        ({"related_share": "0.1"}, TypeError, "related_share"),
        ({"synonym_share": 0.6, "related_share": 0.4}, ValueError, "synonym_share"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        SynonymAwareContrastiveLoss(None, **kwargs)


def test_bad_labels_and_shapes():
    anchors, positives = _synonym_batch()
    loss = SynonymAwareContrastiveLoss(None)
    with pytest.raises(ValueError, match="labels"):
        loss.compute_loss_from_embeddings([anchors, positives], torch.eye(3) * 2)
    with pytest.raises(ValueError, match="labels"):
        loss.compute_loss_from_embeddings([anchors, positives], torch.eye(4))  # diagonal must be 2
    with pytest.raises(ValueError, match="labels"):
        loss.compute_loss_from_embeddings([anchors, positives], torch.eye(4) * 2 + 0.3)
    with pytest.raises(ValueError, match="labels"):
        loss.compute_loss_from_embeddings([anchors, positives], torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"embeddings\[1\]"):
        loss.compute_loss_from_embeddings([anchors, positives[:, :8]])


def test_config_and_citation():
    loss = SynonymAwareContrastiveLoss(None, synonym_share=0.2)
    assert loss.get_config_dict() == {"scale": 20.0, "synonym_share": 0.2, "related_share": 0.1}
    assert "Supervised Contrastive Learning" in loss.citation


def test_forward_through_sentence_transformer(tiny_st):
    loss = SynonymAwareContrastiveLoss(tiny_st)
    features = [
        tiny_st.tokenize(["car", "automobile", "dog"]),
        tiny_st.tokenize(["the car", "an automobile", "a dog"]),
    ]
    value = loss(features, torch.tensor([0, 0, 1]))
    assert torch.isfinite(value)
    value.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny_st.parameters() if p.requires_grad)


def test_a_row_paired_with_itself_is_rejected():
    loss = SynonymAwareContrastiveLoss(None)
    anchors = F.normalize(torch.randn(3, 8, generator=torch.Generator().manual_seed(0)), dim=-1)
    positives = F.normalize(torch.randn(3, 8, generator=torch.Generator().manual_seed(1)), dim=-1)
    positives[1] = anchors[1]
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        loss.compute_loss_from_embeddings([anchors, positives])
