from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import group_false_negative_mask, guide_false_negative_mask, masked_info_nce


def _unit(*rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=-1)


def test_perfect_alignment_beats_random():
    torch.manual_seed(0)
    q = F.normalize(torch.randn(8, 16), dim=-1)
    targets = torch.arange(8)
    aligned = masked_info_nce(q, q.clone(), targets)
    random_keys = masked_info_nce(q, F.normalize(torch.randn(8, 16), dim=-1), targets)
    assert aligned < random_keys
    assert aligned < 0.01


def test_loss_matches_manual_cross_entropy():
    q = _unit([1.0, 0.0], [0.0, 1.0])
    k = _unit([1.0, 1.0], [0.0, 1.0], [1.0, 0.0])
    targets = torch.tensor([2, 1])
    logits = 20.0 * q @ k.T
    expected = F.cross_entropy(logits, targets)
    torch.testing.assert_close(masked_info_nce(q, k, targets, scale=20.0), expected)


def test_masked_false_negative_equals_removed():
    torch.manual_seed(1)
    q = torch.randn(3, 8)
    k = torch.randn(5, 8)
    k[3] = q[0]  # a false negative: as close to query 0 as it gets
    targets = torch.tensor([0, 1, 2])
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[0, 3] = True  # candidate 3 is a false negative of query 0 only
    masked = masked_info_nce(q, k, targets, ignore_mask=mask)
    row0_removed = masked_info_nce(q[:1], k[[0, 1, 2, 4]], torch.tensor([0]))
    rows12 = masked_info_nce(q[1:], k, torch.tensor([1, 2]))
    torch.testing.assert_close(masked, (row0_removed + 2 * rows12) / 3)
    assert masked < masked_info_nce(q, k, targets) - 1.0  # unmasked, it dominates query 0's softmax


def test_hard_target_is_never_ignored():
    q, k = _unit([1.0, 0.0]), _unit([1.0, 0.0], [0.0, 1.0])
    everything = torch.ones(1, 2, dtype=torch.bool)
    loss = masked_info_nce(q, k, torch.tensor([0]), ignore_mask=everything)
    assert torch.isfinite(loss) and loss.item() == pytest.approx(0.0, abs=1e-6)


def test_soft_targets_one_hot_equals_hard_and_renormalise():
    torch.manual_seed(2)
    q, k = torch.randn(4, 6), torch.randn(4, 6)
    hard = masked_info_nce(q, k, torch.arange(4))
    torch.testing.assert_close(masked_info_nce(q, k, torch.eye(4)), hard)
    torch.testing.assert_close(masked_info_nce(q, k, 3.0 * torch.eye(4)), hard)  # rows renormalised
    # mass on an ignored candidate is dropped, the rest renormalised
    soft = torch.eye(4) * 0.5
    soft[0, 1] = 0.5
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[0, 1] = True
    torch.testing.assert_close(
        masked_info_nce(q, k, soft, ignore_mask=mask), masked_info_nce(q, k, torch.arange(4), ignore_mask=mask)
    )


def test_soft_target_with_no_mass_left_raises():
    q, k = torch.randn(2, 4), torch.randn(2, 4)
    with pytest.raises(ValueError, match="targets"):
        masked_info_nce(q, k, torch.eye(2), ignore_mask=torch.eye(2, dtype=torch.bool))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scale": 0.0}, ValueError, "scale"),
        ({"scale": -1.0}, ValueError, "scale"),
        ({"scale": "20"}, TypeError, "scale"),
        ({"ignore_mask": torch.zeros(2, 3, dtype=torch.bool)}, ValueError, "ignore_mask"),
        ({"ignore_mask": torch.zeros(2, 2)}, TypeError, "ignore_mask"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    q, k = torch.randn(2, 4), torch.randn(2, 4)
    with pytest.raises(error, match=match):
        masked_info_nce(q, k, torch.arange(2), **kwargs)


def test_bad_shapes():
    q = torch.randn(2, 4)
    with pytest.raises(ValueError, match="keys"):
        masked_info_nce(q, torch.randn(3, 5), torch.arange(2))
    with pytest.raises(ValueError, match="queries"):
        masked_info_nce(torch.randn(4), torch.randn(3, 4), torch.arange(2))
    with pytest.raises(ValueError, match="targets"):
        masked_info_nce(q, torch.randn(3, 4), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="targets"):
        masked_info_nce(q, torch.randn(3, 4), torch.ones(2, 2))


def test_guide_mask_follows_margin_rule():
    # guide similarities of the anchor to the candidates: 0.8 (own positive), 0.75, 0.65, 0.0
    angle = torch.tensor([0.8, 0.75, 0.65, 0.0]).acos()
    keys = torch.stack([angle.cos(), angle.sin()], dim=1)
    anchor = torch.tensor([[1.0, 0.0]])
    mask = guide_false_negative_mask(anchor, keys, torch.tensor([0]), margin=0.1)
    assert mask.tolist() == [[False, True, False, False]]  # 0.75 > 0.8 - 0.1 = 0.7; 0.65 is not
    mask = guide_false_negative_mask(anchor, keys, torch.tensor([0]), margin=0.2)
    assert mask.tolist() == [[False, True, True, False]]
    mask = guide_false_negative_mask(anchor, keys, torch.tensor([0]), margin=-1.0)  # positive never masked
    assert mask.tolist() == [[False, False, False, False]]
    with pytest.raises(TypeError, match="positive_index"):
        guide_false_negative_mask(anchor, keys, torch.tensor([0.0]), margin=0.1)
    with pytest.raises(TypeError, match="margin"):
        guide_false_negative_mask(anchor, keys, torch.tensor([0]), margin=None)


def test_group_mask_keeps_positive_and_ungrouped():
    mask = group_false_negative_mask(torch.tensor([0, 0, 1]), torch.tensor([0, 0, 1, -1]), torch.arange(3))
    assert mask.tolist() == [[False, True, False, False], [True, False, False, False], [False, False, False, False]]


def test_soft_targets_give_kl_with_cross_entropy_gradients():
    torch.manual_seed(3)
    q = torch.randn(2, 4, requires_grad=True)
    k = torch.randn(3, 4)
    soft = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.5, 0.5]])
    loss = masked_info_nce(q, k, soft, scale=5.0)
    log_p = F.log_softmax(5.0 * F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).T, dim=1)
    cross_entropy = -(soft * log_p).sum(1).mean()
    entropy = -(soft[soft > 0] * soft[soft > 0].log()).sum() / 2
    torch.testing.assert_close(loss, cross_entropy - entropy)
    (grad_kl,) = torch.autograd.grad(loss, q)
    (grad_ce,) = torch.autograd.grad(cross_entropy, q)
    torch.testing.assert_close(grad_kl, grad_ce)
