"""Sentence order-awareness: a sentence vector must tell its sentence apart from word-swapped / shuffled copies."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from hf_tokenembed.data.word_order import perturb_word_order

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty

logger = logging.getLogger(__name__)

__all__ = ["OrderAwarenessEvaluator"]


class OrderAwarenessEvaluator(TokenSpaceBaseEvaluator):
    """Order-awareness of sentence vectors.

    Each held-out sentence with at least ``min_words`` words gets ``n_copies`` perturbed copies
    (`hf_tokenembed.data.perturb_word_order`, the perturber the order loss trains with: first a two-word swap, then
    shuffles, sentence-final punctuation kept at the end; seeded by ``seed`` and the sentence). The query is the sentence's ``encode_sentences`` vector ``s``
    and the candidates are the sentence and its copies. **Definition:** the sentence counts as retrieved only when
    it beats every copy by ``margin`` cosine, i.e. ``cos(s, s) - cos(s, c) >= margin`` for each copy ``c`` (with
    L2-normalised vectors, ``1 - cos(s, c) >= margin``). Without a margin the original trivially matches itself
    (cosine 1) whenever the copies' vectors differ at all, so the score would say nothing.

    Args:
        sentences: Held-out sentences (shorter ones are skipped).
        n_copies: Perturbed copies per sentence.
        margin: Cosine margin the original must win by.
        min_words: Minimum words per sentence.
        seed: Perturbation seed.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``order_awareness`` (primary: fraction retrieved), ``order_cosine_gap`` (mean ``1 - cos(s, two-word swap)``),
        ``order_shuffle_gap`` (mean ``1 - cos(s, shuffle)``) and ``order_sentences``.
    """

    def __init__(
        self,
        sentences: Sequence[str],
        n_copies: int = 5,
        margin: float = 0.01,
        min_words: int = 5,
        seed: int = 0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        sentences = check_nonempty(sentences, "sentences")
        if not isinstance(n_copies, int) or n_copies < 1:
            raise ValueError(f"`n_copies` must be a positive int, got {n_copies!r}")
        if not 0 <= margin < 2:
            raise ValueError(f"`margin` must be in [0, 2), got {margin!r}")
        self.margin = float(margin)
        self.items = []
        for sentence in dict.fromkeys(sentences):
            if len(sentence.split()) >= min_words:
                try:
                    copies = perturb_word_order(sentence, n_copies, random.Random(f"{seed}:{sentence}"), swaps=1)
                except ValueError:  # every word the same: no other order exists
                    continue
                self.items.append((sentence, copies))
        if not self.items:
            raise ValueError(f"`sentences` has no sentence of at least `min_words`={min_words} reorderable words")
        self.n_copies = n_copies
        self.primary_metric = "order_awareness"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        originals = as_tensor(model.encode_sentences([s for s, _ in self.items], **self.encode_kwargs()))
        flat = [c for _, copies in self.items for c in copies]
        copies = as_tensor(model.encode_sentences(flat, **self.encode_kwargs())).view(
            len(self.items), self.n_copies, -1
        )
        self_cos = (originals * originals).sum(-1, keepdim=True)
        cos = (copies * originals.unsqueeze(1)).sum(-1)  # (n, n_copies)
        retrieved = ((self_cos - cos) >= self.margin).all(dim=1)
        gap = 1 - cos
        return {
            "order_awareness": float(retrieved.float().mean()),
            "order_cosine_gap": float(gap[:, 0].mean()),
            "order_shuffle_gap": float(gap[:, 1:].mean()) if self.n_copies > 1 else float("nan"),
            "order_sentences": len(self.items),
        }
