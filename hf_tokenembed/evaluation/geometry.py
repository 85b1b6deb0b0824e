"""Sentence-geometry preservation: Spearman between the model's and a raw reference model's sentence cosines."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty, check_positive

logger = logging.getLogger(__name__)

__all__ = ["GeometryPreservationEvaluator", "raw_backbone"]


def raw_backbone(model: Any) -> Any:
    """The raw backbone of `model` as a TokenEmbedder (no head, no LoRA), loaded from ``model.config.backbone``."""
    from hf_tokenembed.models import TokenEmbedder, TokenEmbedderConfig

    backbone = getattr(getattr(model, "config", None), "backbone", None)
    if not backbone:
        raise ValueError("`model` has no `config.backbone`; pass `reference` explicitly")
    return TokenEmbedder(TokenEmbedderConfig(backbone=backbone, head_dims=[], lora_layers=0)).eval()


class GeometryPreservationEvaluator(TokenSpaceBaseEvaluator):
    """Spearman correlation between the model's and a reference model's cosines on random sentence pairs.

    ``max_pairs`` pairs of distinct held-out sentences are drawn (seeded). The reference (by default the raw
    backbone of ``model.config.backbone``, built on first use) is encoded once and its cosines cached, so repeated
    calls during training only encode with the trained model. An unchanged model scores 1.0.

    Args:
        sentences: Held-out sentences (at least two distinct).
        reference: Anything with ``encode_sentences``; None builds `raw_backbone(model)` on the first call.
        max_pairs: Number of random pairs.
        seed: Sampling seed.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``geometry_spearman`` (primary) and ``geometry_pairs``.
    """

    def __init__(
        self,
        sentences: Sequence[str],
        reference: Any | None = None,
        max_pairs: int = 2000,
        seed: int = 0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        sentences = list(dict.fromkeys(check_nonempty(sentences, "sentences")))
        if len(sentences) < 2:
            raise ValueError("`sentences` needs at least two distinct sentences")
        check_positive(max_pairs, "max_pairs")
        rng = random.Random(seed)
        pairs = set()
        total = len(sentences) * (len(sentences) - 1) // 2
        while len(pairs) < min(max_pairs, total):
            i, j = rng.sample(range(len(sentences)), 2)
            pairs.add((min(i, j), max(i, j)))
        pairs = sorted(pairs)
        used = sorted({i for pair in pairs for i in pair})
        position = {i: n for n, i in enumerate(used)}
        self.sentences = [sentences[i] for i in used]
        self.pairs = [(position[i], position[j]) for i, j in pairs]
        self.reference = reference
        self._reference_cosines: np.ndarray | None = None
        self.primary_metric = "geometry_spearman"

    def _cosines(self, model: Any) -> np.ndarray:
        vectors = as_tensor(model.encode_sentences(self.sentences, **self.encode_kwargs()))
        left = vectors[[i for i, _ in self.pairs]]
        right = vectors[[j for _, j in self.pairs]]
        return (left * right).sum(-1).numpy()

    def compute_metrics(self, model: Any) -> dict[str, float]:
        if self._reference_cosines is None:
            if self.reference is None:
                logger.info("Building the raw-backbone reference for geometry preservation")
                self.reference = raw_backbone(model)
            self._reference_cosines = self._cosines(self.reference)
        rho = spearmanr(self._cosines(model), self._reference_cosines).statistic
        return {"geometry_spearman": float(rho), "geometry_pairs": len(self.pairs)}
