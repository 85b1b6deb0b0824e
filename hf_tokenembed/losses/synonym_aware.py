"""Contrastive loss with soft targets: the positive gets most of the mass, synonyms and related words a share."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .functional import check_distinct_views, check_scale, embed_columns, masked_info_nce

logger = logging.getLogger(__name__)

__all__ = [
    "RELATION_POSITIVE",
    "RELATION_RELATED",
    "RELATION_SYNONYM",
    "RELATION_UNRELATED",
    "SynonymAwareContrastiveLoss",
]

RELATION_POSITIVE = 2.0
RELATION_SYNONYM = 1.0
RELATION_RELATED = 0.5
RELATION_UNRELATED = 0.0
_RELATIONS = (RELATION_UNRELATED, RELATION_RELATED, RELATION_SYNONYM, RELATION_POSITIVE)


class SynonymAwareContrastiveLoss(nn.Module):
    def __init__(
        self, model: nn.Module, scale: float = 20.0, synonym_share: float = 0.3, related_share: float = 0.1
    ) -> None:
        """
        InfoNCE with soft targets over the batch's positives: the own positive gets most of the target mass, the
        anchor's synonyms in the batch share ``synonym_share``, related words share ``related_share``, and every
        other candidate is a negative (zero target, still in the softmax).

        Target row of anchor `i` (over the `B` positives, then any extra negative columns)::

            t[i, i]       = 1 - s_i - r_i
            t[i, synonym] = s_i / n_synonyms     with s_i = synonym_share if row i has synonyms else 0
            t[i, related] = r_i / n_related      with r_i = related_share if row i has related words else 0
            t[i, other]   = 0

        so a row with neither puts all its mass on the positive (plain InfoNCE). Where a hard-target loss would
        push a synonym away as a negative, this loss pulls it a little closer instead.

        Args:
            model: SentenceTransformer (or TokenEmbedder) being trained.
            scale: Inverse temperature of the cosine logits.
            synonym_share: Target mass shared by the synonyms of an anchor, in [0, 1).
            related_share: Target mass shared by its related words (hypernyms, co-hyponyms ...), in [0, 1);
                ``synonym_share + related_share`` must stay below 1 so the positive keeps mass.

        References:
            - Khosla et al. 2020, Supervised Contrastive Learning: https://arxiv.org/abs/2004.11362
            - Szegedy et al. 2016, label smoothing (soft targets in a cross-entropy): https://arxiv.org/abs/1512.00567

        Requirements:
            1. (anchor, positive) pairs, optionally followed by negative columns (zero target).
            2. Labels: either a `(B,)` integer synonym-group id per row (rows with equal ids are synonyms; the
               shape a dataset column gives), or a `(B, B)` relation matrix built by the trainer, where
               ``labels[i, j]`` says what row `j`'s positive is to anchor `i`: ``2`` = its own positive (the
               diagonal, and only there), ``1`` = synonym, ``0.5`` = related, ``0`` = unrelated.

        Inputs:
            +-------------------------------------------+-------------------------------------------------+
            | Inputs                                    | Labels                                          |
            +===========================================+=================================================+
            | (anchor, positive) pairs                  | none, (B,) group id, or (B, B) relation matrix  |
            +-------------------------------------------+-------------------------------------------------+
            | (anchor, positive, negative_1, ...)       | none, (B,) group id, or (B, B) relation matrix  |
            +-------------------------------------------+-------------------------------------------------+

        Relations:
            - With no labels (or all-zero shares) this is :class:`MultiNegativeRankingLoss` without masks.
            - :class:`MultiNegativeRankingLoss` masks synonyms out (neither pulled nor pushed); this loss pulls them
              in with a small share, which keeps synonym clusters tight.

        Example:
            ::

                from datasets import Dataset
                from sentence_transformers import SentenceTransformerTrainer
                from hf_tokenembed.losses import SynonymAwareContrastiveLoss

                train_dataset = Dataset.from_dict({
                    "anchor": ["car", "automobile", "dog"],
                    "positive": ["He parked the car.", "an old automobile", "The dog barked."],
                    "label": [0, 0, 1],  # car and automobile are synonyms
                })
                loss = SynonymAwareContrastiveLoss(model, synonym_share=0.3)
                trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=loss)
                trainer.train()
        """
        super().__init__()
        self.model = model
        self.scale = check_scale(scale)
        self.synonym_share = _share(synonym_share, "synonym_share")
        self.related_share = _share(related_share, "related_share")
        if self.synonym_share + self.related_share >= 1.0:
            raise ValueError(
                f"`synonym_share` + `related_share` must be below 1 so the positive keeps mass, "
                f"got {self.synonym_share} + {self.related_share}"
            )

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        embeddings = embed_columns(self.model, sentence_features)
        return self.compute_loss_from_embeddings(embeddings, labels)

    def soft_targets(self, relations: Tensor, n_candidates: int | None = None) -> Tensor:
        """`(B, C)` soft-target matrix from a `(B, B)` relation matrix (zeros for candidates beyond the first B)."""
        relations = _relations(relations, relations.shape[0] if isinstance(relations, Tensor) else -1)
        batch = relations.shape[0]
        n_candidates = batch if n_candidates is None else n_candidates
        synonyms = relations == RELATION_SYNONYM
        related = relations == RELATION_RELATED
        n_syn = synonyms.sum(dim=1, keepdim=True)
        n_rel = related.sum(dim=1, keepdim=True)
        syn_share = torch.where(n_syn > 0, self.synonym_share, 0.0)
        rel_share = torch.where(n_rel > 0, self.related_share, 0.0)
        targets = torch.zeros((batch, n_candidates), dtype=torch.float32, device=relations.device)
        block = synonyms * (syn_share / n_syn.clamp(min=1)) + related * (rel_share / n_rel.clamp(min=1))
        block = block + torch.diag((1.0 - syn_share - rel_share).squeeze(1))
        targets[:, :batch] = block
        return targets

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        """The loss from `[anchor (B, d), positive (B, d), negative_1 (B, d), ...]` and the relation labels.

        Args:
            embeddings: One `(B, d)` tensor per column.
            labels: None (hard targets), `(B,)` synonym-group ids, or a `(B, B)` relation matrix (see the class).

        Returns:
            The scalar loss.
        """
        if not isinstance(embeddings, (list, tuple)) or len(embeddings) < 2:
            raise ValueError("`embeddings` must be a list of at least 2 columns (anchor, positive, ...)")
        anchors = embeddings[0]
        for i, column in enumerate(embeddings):
            if not isinstance(column, Tensor) or column.ndim != 2 or column.shape != anchors.shape:
                raise ValueError(
                    f"`embeddings[{i}]` must be a tensor of the anchors' shape {tuple(anchors.shape)}, "
                    f"got {getattr(column, 'shape', type(column).__name__)}"
                )
        check_distinct_views(anchors, embeddings[1])
        batch = anchors.shape[0]
        candidates = torch.cat(list(embeddings[1:]), dim=0)
        if labels is None:
            relations = torch.eye(batch, device=anchors.device) * RELATION_POSITIVE
        else:
            relations = _relations(labels, batch)
        targets = self.soft_targets(relations.to(anchors.device), candidates.shape[0])
        return masked_info_nce(anchors, candidates, targets, scale=self.scale)

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "synonym_share": self.synonym_share, "related_share": self.related_share}

    @property
    def citation(self) -> str:
        return """
@inproceedings{khosla2020supervised,
    title={Supervised Contrastive Learning},
    author={Prannay Khosla and Piotr Teterwak and Chen Wang and Aaron Sarna and Yonglong Tian and Phillip Isola and Aaron Maschinot and Ce Liu and Dilip Krishnan},
    booktitle={Advances in Neural Information Processing Systems},
    year={2020},
    eprint={2004.11362},
    archivePrefix={arXiv}
}
"""


def _share(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number in [0, 1), got {type(value).__name__}")
    if not math.isfinite(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must lie in [0, 1), got {value!r}")
    return float(value)


def _relations(labels: Any, batch: int) -> Tensor:
    """A checked `(B, B)` float relation matrix from a relation matrix or `(B,)` group ids."""
    if not isinstance(labels, Tensor):
        raise TypeError(f"`labels` must be a tensor, got {type(labels).__name__}")
    if labels.ndim == 1 or (labels.ndim == 2 and labels.shape[1] == 1 and batch != 1):
        groups = labels.reshape(-1)
        if groups.numel() != batch:
            raise ValueError(f"`labels` group ids must have shape ({batch},), got {tuple(labels.shape)}")
        if groups.is_floating_point() and not torch.equal(groups, groups.round()):
            raise ValueError("`labels` group ids must be integers")
        relations = (groups.unsqueeze(0) == groups.unsqueeze(1)).float() * RELATION_SYNONYM
        relations.fill_diagonal_(RELATION_POSITIVE)
        return relations
    if labels.ndim != 2 or tuple(labels.shape) != (batch, batch):
        raise ValueError(
            f"`labels` must be ({batch},) group ids or a ({batch}, {batch}) relation matrix, got {tuple(labels.shape)}"
        )
    relations = labels.float()
    allowed = torch.tensor(_RELATIONS, device=relations.device)
    if not torch.isin(relations, allowed).all():
        raise ValueError(f"`labels` relation values must be one of {_RELATIONS}")
    diagonal = torch.diagonal(relations)
    if not (diagonal == RELATION_POSITIVE).all():
        raise ValueError("`labels` must have 2 (own positive) on its diagonal")
    if (relations == RELATION_POSITIVE).sum() != batch:
        raise ValueError("`labels` may hold 2 (own positive) only on its diagonal")
    return relations
