from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from hf_tokenembed.losses import ContextAlignmentLoss, masked_info_nce


def _batch(seed: int = 0, batch: int = 4, dim: int = 16):
    g = torch.Generator().manual_seed(seed)
    entries = F.normalize(torch.randn(batch, dim, generator=g), dim=-1)
    context = F.normalize(entries + 0.3 * torch.randn(batch, dim, generator=g), dim=-1)
    return context, entries


def test_aligned_contexts_beat_random():
    context, entries = _batch()
    loss = ContextAlignmentLoss(None)
    assert loss.compute_loss_from_embeddings(context, entries) < loss.compute_loss_from_embeddings(
        context, _batch(seed=1)[1]
    )


def test_shared_entry_ids_are_not_negatives():
    context, entries = _batch()
    entries[2] = entries[0]  # the same word in two sentences: one entry
    labels = torch.tensor([10, 11, 10, 12])
    loss = ContextAlignmentLoss(None)
    masked = loss.compute_loss_from_embeddings(context, entries, labels)
    rows = [
        masked_info_nce(context[0:1], entries[[0, 1, 3]], torch.tensor([0])),
        masked_info_nce(context[1:2], entries, torch.tensor([1])),
        masked_info_nce(context[2:3], entries[[1, 2, 3]], torch.tensor([1])),
        masked_info_nce(context[3:4], entries, torch.tensor([3])),
    ]
    torch.testing.assert_close(masked, torch.stack(rows).mean())
    assert masked < loss.compute_loss_from_embeddings(context, entries)


def test_extra_entries_are_hard_negatives_unless_they_are_the_entry():
    context, entries = _batch()
    loss = ContextAlignmentLoss(None)
    base = loss.compute_loss_from_embeddings(context, entries, torch.arange(4))
    hard = F.normalize(context + 0.05, dim=-1)  # sense entries that sit right next to each context
    harder = loss.compute_loss_from_embeddings(context, entries, torch.arange(4), extra_entries=hard)
    assert harder > base
    expected = masked_info_nce(context, torch.cat([entries, hard]), torch.arange(4))
    torch.testing.assert_close(harder, expected)
    same_ids = loss.compute_loss_from_embeddings(
        context, entries, torch.arange(4), extra_entries=hard, extra_entry_ids=torch.arange(4)
    )
    keys = torch.cat([entries, hard])
    rows = [
        masked_info_nce(context[i : i + 1], keys[[j for j in range(8) if j != 4 + i]], torch.tensor([i]))
        for i in range(4)
    ]
    torch.testing.assert_close(same_ids, torch.stack(rows).mean())  # an extra entry with the row's id is masked
    assert base < same_ids < harder


def test_symmetric_averages_both_directions():
    context, entries = _batch()
    loss = ContextAlignmentLoss(None, symmetric=True)
    forward = masked_info_nce(context, entries, torch.arange(4))
    backward = masked_info_nce(entries, context, torch.arange(4))
    torch.testing.assert_close(loss.compute_loss_from_embeddings(context, entries), (forward + backward) / 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"), [({"scale": 0}, ValueError, "scale"), ({"symmetric": "yes"}, TypeError, "symmetric")]
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ContextAlignmentLoss(None, **kwargs)


def test_bad_shapes_and_labels():
    context, entries = _batch()
    loss = ContextAlignmentLoss(None)
    with pytest.raises(ValueError, match="entries"):
        loss.compute_loss_from_embeddings(context, entries[:3])
    with pytest.raises(ValueError, match="labels"):
        loss.compute_loss_from_embeddings(context, entries, torch.arange(3))
    with pytest.raises(ValueError, match="extra_entries"):
        loss.compute_loss_from_embeddings(context, entries, extra_entries=entries[:, :4])
    with pytest.raises(ValueError, match="extra_entry_ids"):
        loss.compute_loss_from_embeddings(
            context, entries, torch.arange(4), extra_entries=entries, extra_entry_ids=torch.arange(2)
        )
    with pytest.raises(ValueError, match="extra_entry_ids"):
        loss.compute_loss_from_embeddings(context, entries, extra_entry_ids=torch.arange(4))


def test_config_and_citation():
    loss = ContextAlignmentLoss(None, scale=30.0, symmetric=True)
    assert loss.get_config_dict() == {"scale": 30.0, "symmetric": True}
    assert "Smart Reply" in loss.citation


def test_forward_through_token_embedder_pools_the_span(tiny_model):
    """With a TokenEmbedder the context column's span_mask selects the word in context."""
    sentences = ["We sat on the river bank.", "The bank raised its rates.", "A red herring misled us."]
    spans = [(20, 24), (4, 8), (2, 13)]
    context = tiny_model.collate(tiny_model.tokenize(sentences, spans), range(3))
    entries = tiny_model.collate(tiny_model.tokenize(["bank (river)", "bank (finance)", "red herring"]), range(3))
    loss = ContextAlignmentLoss(tiny_model, symmetric=True)
    value = loss([context, entries], torch.tensor([0, 1, 2]))
    assert torch.isfinite(value)
    expected_context = tiny_model(**context).embeddings
    torch.testing.assert_close(expected_context, tiny_model.encode_in_context(sentences, spans), atol=1e-5, rtol=1e-4)
    value.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny_model.parameters() if p.requires_grad)


def test_forward_through_sentence_transformer(tiny_st):
    loss = ContextAlignmentLoss(tiny_st)
    features = [
        tiny_st.tokenize(["We sat on the river bank.", "The bank raised rates."]),
        tiny_st.tokenize(["bank", "bank"]),
    ]
    extra = tiny_st.tokenize(["shore", "money"])
    value = loss([*features, extra], torch.tensor([0, 1]))
    assert torch.isfinite(value)
    value.backward()
