"""Multiple-negatives ranking with mined hard negatives and false-negative filtering."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .functional import (
    HENDERSON_2017,
    check_distinct_views,
    check_scale,
    cosine_matrix,
    embed_columns,
    group_false_negative_mask,
    guide_false_negative_mask,
    masked_info_nce,
)

logger = logging.getLogger(__name__)

__all__ = ["MultiNegativeRankingLoss"]

_DUPLICATE_COSINE = 1.0 - 1e-5


class MultiNegativeRankingLoss(nn.Module):
    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        false_negative_margin: float | None = 0.1,
        guide: nn.Module | None = None,
        mask_in_batch_duplicates: bool = True,
    ) -> None:
        """
        InfoNCE over in-batch negatives plus `k` mined hard negatives per anchor, with false negatives masked.

        For each anchor `i` the candidates are the `B` positives of the batch followed by the `B * k` hard negatives
        (column by column); the anchor must rank its own positive first. A candidate that is really a synonym or a
        variant of the anchor is not a negative, so it is removed from that anchor's softmax (its logit becomes
        `-inf`, exactly as if it were not in the batch) when:

        - it shares the anchor's group id (``labels``; variants and synonyms share a group), or
        - a guide space scores it above ``guide_sim(anchor, positive) - false_negative_margin`` (the GISTEmbed rule;
          needs ``guide`` or ``guide_embeddings``), or
        - it duplicates the anchor or its positive (``mask_in_batch_duplicates``), or
        - it is marked in an explicit ``false_negative_mask``.

        The hard negatives are meant to come from :class:`~hf_tokenembed.losses.HardNegativeMiner`, which searches
        the current vocabulary vectors with FAISS (refreshed during training by
        :class:`~hf_tokenembed.training.HardNegativeRefreshCallback`) and already skips the anchor, the positive and
        the anchor's known variants.

        What this fixes in the original recipe: there the positive was the word's own vector (``z_pos = embeds``),
        so the positive logit was the constant ``scale`` and the loss only pushed things apart; it used a single
        hard negative and no false-negative guard, so synonyms were pushed away from each other. Here the positive
        must be a *different view* (a synonym, the word in a context sentence, its sense gloss ...) and a positive
        column identical to the anchor column is rejected with a ValueError.

        Args:
            model: SentenceTransformer (or TokenEmbedder) being trained.
            scale: Inverse temperature of the cosine logits (``scale=20`` is temperature 0.05).
            false_negative_margin: Margin of the guide rule; ``None`` disables it. Only used when a guide space is
                available (``guide`` here, or ``guide_embeddings`` passed to :meth:`compute_loss_from_embeddings`,
                e.g. the frozen backbone's cached features).
            guide: Optional frozen SentenceTransformer that scores candidates for the guide rule.
            mask_in_batch_duplicates: Mask candidates whose vector equals the anchor's or its positive's (the same
                word appearing twice in a batch).

        References:
            - Henderson et al. 2017, Efficient Natural Language Response Suggestion for Smart Reply:
              https://arxiv.org/abs/1705.00652
            - Solatorio 2024, GISTEmbed (guided false-negative filtering): https://arxiv.org/abs/2402.16829

        Requirements:
            1. (anchor, positive) pairs or (anchor, positive, negative_1, ..., negative_k) tuples; every row has the
               same number of negatives.
            2. Optional integer group ids as labels (rows of one synonym / variant group share an id).

        Inputs:
            +-------------------------------------------------+----------------------------+
            | Inputs                                          | Labels                     |
            +=================================================+============================+
            | (anchor, positive) pairs                        | none or group id (int)     |
            +-------------------------------------------------+----------------------------+
            | (anchor, positive, negative_1, ..., negative_k) | none or group id (int)     |
            +-------------------------------------------------+----------------------------+

        Relations:
            - sentence-transformers' ``MultipleNegativesRankingLoss`` is this loss with no false-negative masks.
            - sentence-transformers' ``GISTEmbedLoss`` applies the same guide rule, but needs a guide model.
            - :class:`SynonymAwareContrastiveLoss` gives synonyms a share of the target instead of masking them.

        Example:
            ::

                from datasets import Dataset
                from sentence_transformers import SentenceTransformerTrainer
                from hf_tokenembed import TokenEmbedder
                from hf_tokenembed.losses import MultiNegativeRankingLoss

                embedder = TokenEmbedder.from_pretrained("path/to/token-embedder")
                model = embedder.to_sentence_transformer(space="token", merge_lora=False)  # trains `embedder`
                train_dataset = Dataset.from_dict({
                    "anchor": ["bank", "car"],
                    "positive": ["We sat on the river bank.", "automobile"],
                    "negative_1": ["shore", "bus"],
                    "label": [0, 1],
                })
                loss = MultiNegativeRankingLoss(model)
                trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=loss)
                trainer.train()
        """
        super().__init__()
        self.model = model
        self.scale = check_scale(scale)
        if false_negative_margin is not None:
            if isinstance(false_negative_margin, bool) or not isinstance(false_negative_margin, (int, float)):
                raise TypeError(f"`false_negative_margin` must be a number or None, got {false_negative_margin!r}")
            if not -1.0 <= false_negative_margin <= 2.0:
                raise ValueError(
                    f"`false_negative_margin` must lie in [-1, 2] (cosine units), got {false_negative_margin}"
                )
            false_negative_margin = float(false_negative_margin)
        self.false_negative_margin = false_negative_margin
        if guide is not None and not isinstance(guide, nn.Module):
            raise TypeError(f"`guide` must be a SentenceTransformer or None, got {type(guide).__name__}")
        self.guide = guide
        if guide is not None:
            guide.requires_grad_(False)
        if not isinstance(mask_in_batch_duplicates, bool):
            raise TypeError(
                f"`mask_in_batch_duplicates` must be a bool, got {type(mask_in_batch_duplicates).__name__}"
            )
        self.mask_in_batch_duplicates = mask_in_batch_duplicates

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        guide_features = [dict(features) for features in sentence_features]
        embeddings = embed_columns(self.model, sentence_features)
        guide_embeddings = None
        if self.guide is not None and self.false_negative_margin is not None:
            guide_embeddings = _guide_embeddings(self.model, self.guide, guide_features)
        return self.compute_loss_from_embeddings(embeddings, labels, guide_embeddings=guide_embeddings)

    def compute_loss_from_embeddings(
        self,
        embeddings: list[Tensor],
        labels: Tensor | None = None,
        *,
        candidate_labels: Tensor | None = None,
        false_negative_mask: Tensor | None = None,
        guide_embeddings: list[Tensor] | None = None,
    ) -> Tensor:
        """The loss from column embeddings `[anchor (B, d), positive (B, d), negative_1 (B, d), ...]`.

        Args:
            embeddings: One `(B, d)` tensor per column; candidates are `cat(embeddings[1:])`, `C = B * (1 + k)`.
            labels: Optional `(B,)` group ids; another row's positive in the anchor's group is masked.
            candidate_labels: Optional `(C,)` group ids of every candidate (positives, then negatives column by
                column); with it a mined negative in the anchor's group is masked too. By default only the positives
                carry groups (their rows' labels) and the negatives none (-1).
            false_negative_mask: Optional `(B, C)` bool, `True` = not a negative of this anchor.
            guide_embeddings: Optional columns in a guide space (same layout) for the margin rule.

        Returns:
            The scalar loss.
        """
        if not isinstance(embeddings, (list, tuple)) or len(embeddings) < 2:
            raise ValueError(
                f"`embeddings` must be a list of at least 2 columns (anchor, positive, ...), got {embeddings!r:.80}"
            )
        anchors = embeddings[0]
        batch = anchors.shape[0] if isinstance(anchors, Tensor) else -1
        for i, column in enumerate(embeddings):
            if not isinstance(column, Tensor) or column.ndim != 2 or column.shape != anchors.shape:
                raise ValueError(
                    f"`embeddings[{i}]` must be a tensor of the anchors' shape {tuple(anchors.shape)}, "
                    f"got {getattr(column, 'shape', type(column).__name__)}"
                )
        check_distinct_views(anchors, embeddings[1])
        candidates = torch.cat(list(embeddings[1:]), dim=0)
        n_candidates = candidates.shape[0]
        positive_index = torch.arange(batch, device=anchors.device)
        mask = torch.zeros((batch, n_candidates), dtype=torch.bool, device=anchors.device)

        if labels is not None:
            labels = _group_labels(labels, batch).to(anchors.device)
            if candidate_labels is None:
                key_groups = torch.full((n_candidates,), -1, dtype=torch.long, device=anchors.device)
                key_groups[:batch] = labels  # only the positives carry the row's group
            else:
                key_groups = _group_labels(candidate_labels, n_candidates, "candidate_labels").to(anchors.device)
            mask |= group_false_negative_mask(labels, key_groups, positive_index)
        elif candidate_labels is not None:
            raise ValueError("`candidate_labels` needs `labels` (the anchors' group ids) to compare with")
        if false_negative_mask is not None:
            if not isinstance(false_negative_mask, Tensor) or false_negative_mask.dtype != torch.bool:
                raise TypeError("`false_negative_mask` must be a bool tensor")
            if tuple(false_negative_mask.shape) != (batch, n_candidates):
                raise ValueError(
                    f"`false_negative_mask` must have shape {(batch, n_candidates)}, got {tuple(false_negative_mask.shape)}"
                )
            mask |= false_negative_mask.to(anchors.device)
        if guide_embeddings is not None and self.false_negative_margin is not None:
            if not isinstance(guide_embeddings, (list, tuple)) or len(guide_embeddings) != len(embeddings):
                raise ValueError(f"`guide_embeddings` must be a list of {len(embeddings)} columns like `embeddings`")
            if any(not isinstance(g, Tensor) or g.ndim != 2 or g.shape[0] != batch for g in guide_embeddings):
                raise ValueError(f"each of `guide_embeddings` must be a ({batch}, g) tensor")
            guide_keys = torch.cat(list(guide_embeddings[1:]), dim=0)
            mask |= guide_false_negative_mask(
                guide_embeddings[0], guide_keys, positive_index.to(guide_keys.device), self.false_negative_margin
            ).to(anchors.device)
        if self.mask_in_batch_duplicates:
            with torch.no_grad():
                same_as_positive = cosine_matrix(embeddings[1].detach(), candidates.detach()) >= _DUPLICATE_COSINE
                same_as_anchor = cosine_matrix(anchors.detach(), candidates.detach()) >= _DUPLICATE_COSINE
            mask |= same_as_positive | same_as_anchor
        mask[positive_index, positive_index] = False
        return masked_info_nce(anchors, candidates, positive_index, scale=self.scale, ignore_mask=mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "false_negative_margin": self.false_negative_margin,
            "guide": None if self.guide is None else _model_name(self.guide),
            "mask_in_batch_duplicates": self.mask_in_batch_duplicates,
        }

    @property
    def temperature(self) -> float:
        return 1.0 / self.scale

    @property
    def citation(self) -> str:
        return (
            HENDERSON_2017
            + """@misc{solatorio2024gistembed,
    title={GISTEmbed: Guided In-sample Selection of Training Negatives for Text Embedding Fine-tuning},
    author={Aivin V. Solatorio},
    year={2024},
    eprint={2402.16829},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""
        )


def _group_labels(labels: Tensor, batch: int, name: str = "labels") -> Tensor:
    if not isinstance(labels, Tensor):
        raise TypeError(f"`{name}` must be a tensor of group ids, got {type(labels).__name__}")
    labels = labels.reshape(-1)
    if labels.numel() != batch:
        raise ValueError(f"`{name}` must hold one group id per item ({batch}), got shape {tuple(labels.shape)}")
    if labels.is_floating_point():
        if not torch.equal(labels, labels.round()):
            raise ValueError(f"`{name}` must be integer group ids")
        labels = labels.long()
    return labels.long()


def _model_name(model: nn.Module) -> str:
    card = getattr(model, "model_card_data", None)
    name = getattr(card, "base_model", None) if card is not None else None
    return name or type(model).__name__


def _guide_embeddings(model: nn.Module, guide: nn.Module, features: list[dict[str, Any]]) -> list[Tensor]:
    """Embed the columns with the frozen guide, re-tokenising the text when the tokenizers differ."""
    model_tokenizer = getattr(model, "tokenizer", None)
    guide_tokenizer = getattr(guide, "tokenizer", None)
    same_tokenizer = (
        model_tokenizer is not None
        and guide_tokenizer is not None
        and model_tokenizer.get_vocab() == guide_tokenizer.get_vocab()
    )
    with torch.no_grad():
        if not same_tokenizer:
            encode = getattr(guide, "preprocess", None) or getattr(guide, "tokenize", None)
            if model_tokenizer is None or encode is None:
                raise ValueError("`guide` needs the model's tokenizer to re-tokenise, or the same tokenizer")
            device = next(guide.parameters()).device
            texts = [model_tokenizer.batch_decode(f["input_ids"], skip_special_tokens=True) for f in features]
            features = [{k: v.to(device) if isinstance(v, Tensor) else v for k, v in encode(t).items()} for t in texts]
        return embed_columns(guide, features)
