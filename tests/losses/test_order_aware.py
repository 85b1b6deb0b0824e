from __future__ import annotations

import copy
import random

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import OrderAwareSentenceLoss, masked_info_nce, perturb_word_order


def test_perturb_word_order_never_returns_the_original_and_is_seeded():
    sentence = "the dog bit the old man."
    copies = perturb_word_order(sentence, k=5, rng=random.Random(3))
    assert len(copies) == 5 and sentence not in copies
    assert len(set(copies)) == 5
    assert all(c.endswith(".") and sorted(c[:-1].split()) == sorted(sentence[:-1].split()) for c in copies)
    # the first copy swaps exactly two words
    first, original = copies[0][:-1].split(), sentence[:-1].split()
    assert sum(a != b for a, b in zip(first, original)) == 2
    assert perturb_word_order(sentence, k=5, rng=random.Random(3)) == copies
    assert perturb_word_order(sentence, k=5, rng=3) == copies


def test_perturb_word_order_swaps_come_first():
    sentence = "the dog bit the old man near the red barn"
    copies = perturb_word_order(sentence, k=4, rng=0, swaps=3)
    original = sentence.split()
    moved = [sum(a != b for a, b in zip(c.split(), original)) for c in copies]
    assert moved[:3] == [2, 2, 2] and len(set(copies)) == 4
    with pytest.raises(ValueError, match="swaps"):
        perturb_word_order(sentence, k=2, swaps=3)


def test_perturb_word_order_short_sentences():
    copies = perturb_word_order("a b c", k=8, rng=0)  # only 5 other orders exist: repeats, never the original
    assert len(copies) == 8 and "a b c" not in copies and len(set(copies)) == 5
    with pytest.raises(ValueError, match="3 words"):
        perturb_word_order("two words", k=2)
    with pytest.raises(ValueError, match="3 words"):
        perturb_word_order("two words.", k=2)
    with pytest.raises(ValueError, match="sentence"):
        perturb_word_order("no no no", k=1)
    with pytest.raises(ValueError, match="`k`"):
        perturb_word_order("one two three", k=0)
    with pytest.raises(TypeError, match="rng"):
        perturb_word_order("one two three", k=1, rng="seed")


def _batch(seed: int = 0, batch: int = 4, k: int = 2, dim: int = 16):
    g = torch.Generator().manual_seed(seed)
    anchor = F.normalize(torch.randn(batch, dim, generator=g), dim=-1)
    perturbed = F.normalize(anchor.unsqueeze(1) + 0.05 * torch.randn(batch, k, dim, generator=g), dim=-1)
    return anchor, perturbed


def test_parts_and_total():
    anchor, perturbed = _batch()
    teacher = torch.randn(4, 32)
    loss = OrderAwareSentenceLoss(None, distill_weight=2.0)
    parts = loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=teacher)
    assert set(parts) == {"contrastive", "distill", "loss"}
    torch.testing.assert_close(parts["loss"], parts["contrastive"] + parts["distill"])
    student_cos = anchor @ anchor.T
    tn = F.normalize(teacher, dim=-1)
    off = ~torch.eye(4, dtype=torch.bool)
    torch.testing.assert_close(parts["distill"], 2.0 * F.mse_loss(student_cos[off], (tn @ tn.T)[off]))
    keys = torch.cat([anchor, perturbed.reshape(-1, 16)])
    torch.testing.assert_close(parts["contrastive"], masked_info_nce(anchor, keys, torch.arange(4)))


def test_order_sensitive_vectors_score_lower_than_bag_of_words():
    anchor, near_copies = _batch()  # copies almost equal to the sentence: what mean pooling gives
    _, far = _batch(seed=1)
    far_copies = F.normalize(far - 0.9 * anchor.unsqueeze(1), dim=-1)  # copies pushed away from the original
    loss = OrderAwareSentenceLoss(None)
    bag = loss.compute_loss_from_embeddings(anchor, near_copies)["contrastive"]
    ordered = loss.compute_loss_from_embeddings(anchor, far_copies)["contrastive"]
    assert ordered < bag


def test_distill_is_zero_when_geometry_is_kept_and_grows_when_it_is_not():
    anchor, perturbed = _batch()
    rotation, _ = torch.linalg.qr(torch.randn(16, 16))
    loss = OrderAwareSentenceLoss(None)
    kept = loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=3.0 * anchor @ rotation)
    assert kept["distill"].item() == pytest.approx(0.0, abs=1e-10)  # a rotated, scaled space keeps the geometry
    collapsed = loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=torch.ones(4, 16))
    assert collapsed["distill"] > 0.1
    assert loss.compute_loss_from_embeddings(anchor, perturbed)["distill"] == 0  # no teacher, no term


def test_extra_sentences_join_only_the_distillation():
    anchor, perturbed = _batch()
    extra = F.normalize(torch.randn(3, 16), dim=-1)
    teacher, extra_teacher = torch.randn(4, 32), torch.randn(3, 32)
    loss = OrderAwareSentenceLoss(None)
    parts = loss.compute_loss_from_embeddings(
        anchor, perturbed, teacher_anchor=teacher, extra_anchor=extra, extra_teacher=extra_teacher
    )
    plain = loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=teacher)
    torch.testing.assert_close(parts["contrastive"], plain["contrastive"])
    students = torch.cat([anchor, extra])
    teachers = F.normalize(torch.cat([teacher, extra_teacher]), dim=-1)
    off = ~torch.eye(7, dtype=torch.bool)
    torch.testing.assert_close(
        parts["distill"], F.mse_loss((students @ students.T)[off], (teachers @ teachers.T)[off])
    )
    with pytest.raises(ValueError, match="together"):
        loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=teacher, extra_anchor=extra)
    with pytest.raises(ValueError, match="extra_anchor"):
        loss.compute_loss_from_embeddings(
            anchor, perturbed, teacher_anchor=teacher, extra_anchor=extra, extra_teacher=extra_teacher[:2]
        )


def test_pull_holds_sentences_at_the_teachers_vectors():
    anchor, perturbed = _batch()
    loss = OrderAwareSentenceLoss(None, distill_weight=0.0, pull_weight=2.0)
    assert loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=3.0 * anchor)["distill"].item() == (
        pytest.approx(0.0, abs=1e-6)
    )  # in place (any length): nothing to pull
    rotation, _ = torch.linalg.qr(torch.randn(16, 16))
    rotated = anchor @ rotation  # same geometry, other place: the cosine-matrix term is 0, the pull is not
    extra, extra_teacher = F.normalize(torch.randn(3, 16), dim=-1), torch.randn(3, 16)
    parts = loss.compute_loss_from_embeddings(
        anchor, perturbed, teacher_anchor=rotated, extra_anchor=extra, extra_teacher=extra_teacher
    )
    cosines = F.cosine_similarity(torch.cat([anchor, extra]), torch.cat([rotated, extra_teacher]), dim=-1)
    torch.testing.assert_close(parts["distill"], 2.0 * (1 - cosines).mean())
    with pytest.raises(ValueError, match="pull_weight"):
        loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=torch.randn(4, 32))


def test_positive_view_is_used():
    anchor, perturbed = _batch()
    loss = OrderAwareSentenceLoss(None)
    detached = loss.compute_loss_from_embeddings(anchor, perturbed)["contrastive"]
    explicit = loss.compute_loss_from_embeddings(anchor, perturbed, positive=anchor.clone())["contrastive"]
    torch.testing.assert_close(detached, explicit)
    anchor.requires_grad_(True)
    loss.compute_loss_from_embeddings(anchor, perturbed)["loss"].backward()
    assert anchor.grad is not None and anchor.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scale": -1.0}, ValueError, "scale"),
        ({"distill_weight": -0.5}, ValueError, "distill_weight"),
        ({"distill_weight": "1"}, TypeError, "distill_weight"),
        ({"teacher": "raw"}, TypeError, "teacher"),
        ({"positive_view": "mirror"}, ValueError, "positive_view"),
        ({"positive_view": "teacher"}, ValueError, "positive_view"),
        ({"pull_weight": -1.0}, ValueError, "pull_weight"),
        ({"pull_weight": None}, TypeError, "pull_weight"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        OrderAwareSentenceLoss(None, **kwargs)


def test_bad_shapes():
    anchor, perturbed = _batch()
    loss = OrderAwareSentenceLoss(None)
    with pytest.raises(ValueError, match="perturbed"):
        loss.compute_loss_from_embeddings(anchor, perturbed[:3])
    with pytest.raises(ValueError, match="perturbed"):
        loss.compute_loss_from_embeddings(anchor, perturbed[:, :, :8])
    with pytest.raises(ValueError, match="positive"):
        loss.compute_loss_from_embeddings(anchor, perturbed, positive=anchor[:2])
    with pytest.raises(ValueError, match="teacher_anchor"):
        loss.compute_loss_from_embeddings(anchor, perturbed, teacher_anchor=anchor[:2])
    with pytest.raises(ValueError, match="anchor"):
        loss.compute_loss_from_embeddings(anchor[0], perturbed)


def test_config_and_citation():
    loss = OrderAwareSentenceLoss(None, distill_weight=0.5)
    assert loss.get_config_dict() == {
        "scale": 20.0, "distill_weight": 0.5, "teacher": None, "positive_view": "auto", "pull_weight": 0.0
    }  # fmt: skip
    assert "Knowledge Distillation" in loss.citation


def test_forward_through_sentence_transformer_with_teacher(tiny_st):
    teacher = copy.deepcopy(tiny_st).eval()
    loss = OrderAwareSentenceLoss(tiny_st, teacher=teacher)
    sentences = ["the dog bit the man", "she sold the old car", "rain fell on the town"]
    rng = random.Random(0)
    copies = [perturb_word_order(s, k=2, rng=rng) for s in sentences]
    features = [tiny_st.tokenize(sentences)] + [tiny_st.tokenize([c[i] for c in copies]) for i in range(2)]
    parts = loss(features, None)
    assert set(parts) == {"contrastive", "distill"}  # the trainer sums the parts: no double-counted total
    assert loss._resolve_view(torch.zeros(3, 24), torch.zeros(3, 24)) == "teacher"
    no_teacher = OrderAwareSentenceLoss(tiny_st)
    assert no_teacher._resolve_view(torch.zeros(3, 24), None) == "dropout"  # train mode, BERT dropout
    tiny_st.eval()
    assert no_teacher._resolve_view(torch.zeros(3, 24), None) == "detached"
    tiny_st.train()
    total = parts["contrastive"] + parts["distill"]
    assert torch.isfinite(total)
    total.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny_st.parameters() if p.requires_grad)
    assert all(p.grad is None for p in teacher.parameters())
