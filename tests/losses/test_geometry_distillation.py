from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import GeometryDistillationLoss


def _vectors(seed: int, n: int = 6, dim: int = 8) -> torch.Tensor:
    return F.normalize(torch.randn(n, dim, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_zero_for_the_same_geometry_in_another_space_and_grows_with_distortion():
    teacher = _vectors(0)
    rotation = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(1)))[0]
    loss = GeometryDistillationLoss(None, weight=10.0)
    assert loss.compute_loss_from_embeddings(teacher @ rotation, teacher).item() == pytest.approx(0.0, abs=1e-10)
    slightly = F.normalize(teacher + 0.1 * _vectors(2), dim=-1)
    strongly = F.normalize(teacher + 1.0 * _vectors(2), dim=-1)
    small, large = (loss.compute_loss_from_embeddings(x, teacher) for x in (slightly, strongly))
    assert 0 < small < large
    half = GeometryDistillationLoss(None, weight=5.0).compute_loss_from_embeddings(strongly, teacher)
    torch.testing.assert_close(half, large / 2)


def test_gradients_reach_the_student_only():
    student = _vectors(3).requires_grad_(True)
    teacher = _vectors(4).requires_grad_(True)
    GeometryDistillationLoss(None).compute_loss_from_embeddings(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0 and teacher.grad is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="weight"):
        GeometryDistillationLoss(None, weight=-1)
    with pytest.raises(TypeError, match="teacher"):
        GeometryDistillationLoss(None, teacher="raw")
    with pytest.raises(ValueError, match="rows"):
        GeometryDistillationLoss(None).compute_loss_from_embeddings(_vectors(0, n=4), _vectors(1, n=5))
    with pytest.raises(ValueError, match="teacher"):
        GeometryDistillationLoss(None).forward([{}])


def test_forward_through_sentence_transformer_with_teacher(tiny_st, tiny_model):
    teacher = tiny_model.to_sentence_transformer(space="token").eval()  # a frozen copy: the same geometry
    loss = GeometryDistillationLoss(tiny_st.eval(), teacher=teacher, weight=3.0)  # no dropout: same vectors
    features = [tiny_st.preprocess(["bank", "shore"]), tiny_st.preprocess(["red herring", "a misleading clue"])]
    assert loss(features).item() == pytest.approx(0.0, abs=1e-8)
    assert loss.get_config_dict()["weight"] == 3.0 and "Relational" in loss.citation


def test_the_neighbourhood_term_is_listwise_and_rotation_free():
    from hf_tokenembed.losses import relational_distillation

    teacher = _vectors(5, n=8)
    rotation = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(6)))[0]
    kl = relational_distillation(teacher @ rotation, teacher, temperature=0.05)
    assert kl.item() == pytest.approx(0.0, abs=1e-6)
    distorted = torch.nn.functional.normalize(teacher + 0.5 * _vectors(7, n=8), dim=-1)
    listwise = relational_distillation(distorted, teacher, temperature=0.05)
    assert listwise > 0
    loss = GeometryDistillationLoss(None, weight=0.0, neighbour_weight=2.0, temperature=0.05)
    torch.testing.assert_close(loss.compute_loss_from_embeddings(distorted, teacher), 2 * listwise)
    both = GeometryDistillationLoss(None, weight=3.0, neighbour_weight=2.0, temperature=0.05)
    torch.testing.assert_close(
        both.compute_loss_from_embeddings(distorted, teacher),
        3 * relational_distillation(distorted, teacher) + 2 * listwise,
    )
    with pytest.raises(ValueError, match="both 0"):
        GeometryDistillationLoss(None, weight=0.0, neighbour_weight=0.0)
    with pytest.raises(ValueError, match="temperature"):
        GeometryDistillationLoss(None, temperature=0)
