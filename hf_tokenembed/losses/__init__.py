"""Losses in the sentence-transformers shape (model first, `forward(sentence_features, labels)`, a pure
`compute_loss_from_embeddings`, `get_config_dict`, `citation`), usable with `SentenceTransformerTrainer` and ours."""

from __future__ import annotations

from .context_alignment import ContextAlignmentLoss
from .functional import (
    group_false_negative_mask,
    guide_false_negative_mask,
    masked_info_nce,
    relational_distillation,
)
from .geometry_distillation import GeometryDistillationLoss
from .gloss_matching import GlossMatchingLoss
from .hard_negatives import HardNegativeMiner
from .multi_negative_ranking import MultiNegativeRankingLoss
from .order_aware import OrderAwareSentenceLoss, perturb_word_order
from .synonym_aware import SynonymAwareContrastiveLoss

__all__ = [
    "ContextAlignmentLoss",
    "GeometryDistillationLoss",
    "GlossMatchingLoss",
    "HardNegativeMiner",
    "MultiNegativeRankingLoss",
    "OrderAwareSentenceLoss",
    "SynonymAwareContrastiveLoss",
    "group_false_negative_mask",
    "guide_false_negative_mask",
    "masked_info_nce",
    "perturb_word_order",
    "relational_distillation",
]
