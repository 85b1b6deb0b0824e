"""Geometry preservation: Spearman between the model's and a raw reference model's cosines, of sentences (the
sentence space) or of words and phrases (the token space)."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty, check_positive

logger = logging.getLogger(__name__)

__all__ = ["GeometryPreservationEvaluator", "raw_backbone", "raw_encoder"]


def raw_encoder(backbone: str) -> Any:
    """An encoder (hub name or local folder) as a TokenEmbedder with no head and no LoRA: its own pooled vectors."""
    from hf_tokenembed.models import TokenEmbedder, TokenEmbedderConfig

    return TokenEmbedder(TokenEmbedderConfig(backbone=backbone, head_dims=[], lora_layers=0)).eval()


def raw_backbone(model: Any) -> Any:
    """The raw backbone of `model` as a TokenEmbedder (no head, no LoRA), loaded from ``model.config.backbone``."""
    backbone = getattr(getattr(model, "config", None), "backbone", None)
    if not backbone:
        raise ValueError("`model` has no `config.backbone`; pass `reference` explicitly")
    return raw_encoder(backbone)


class GeometryPreservationEvaluator(TokenSpaceBaseEvaluator):
    """Spearman correlation between the model's and a reference model's cosines on random pairs of texts.

    ``max_pairs`` pairs of distinct texts are drawn (seeded): held-out sentences through ``encode_sentences``
    (``space="sentence"``) or words and phrases through ``encode_words`` (``space="word"``: a word's neighbourhood
    in the token space, compared with the raw backbone's). The reference (by default the raw
    backbone of ``model.config.backbone``, built on first use) is encoded once and its cosines cached, so repeated
    calls during training only encode with the trained model. An unchanged model scores 1.0.

    Args:
        sentences: The texts (at least two distinct): held-out sentences, or words and phrases.
        reference: Anything with ``encode_sentences``; None builds `raw_backbone(model)` on the first call.
        max_pairs: Number of random pairs.
        seed: Sampling seed.
        space: ``"sentence"`` or ``"word"``.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``geometry_spearman`` (primary) and ``geometry_pairs``; with ``space="word"``, ``word_geometry_spearman``
        and ``word_geometry_pairs``.
    """

    def __init__(
        self,
        sentences: Sequence[str],
        reference: Any | None = None,
        max_pairs: int = 2000,
        seed: int = 0,
        space: str = "sentence",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if space not in ("sentence", "word"):
            raise ValueError(f"`space` must be 'sentence' or 'word', got {space!r}")
        self.space = space
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
        self.prefix = "" if space == "sentence" else "word_"
        self.primary_metric = f"{self.prefix}geometry_spearman"

    def _cosines(self, model: Any) -> np.ndarray:
        encode = model.encode_sentences if self.space == "sentence" else model.encode_words
        vectors = as_tensor(encode(self.sentences, **self.encode_kwargs()))
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
        return {f"{self.prefix}geometry_spearman": float(rho), f"{self.prefix}geometry_pairs": len(self.pairs)}
