"""Sentence order-awareness: a sentence vector must tell its sentence apart from word-swapped / shuffled copies."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty

logger = logging.getLogger(__name__)

__all__ = ["OrderAwarenessEvaluator", "perturb_sentence"]


def perturb_sentence(sentence: str, n_copies: int = 5, seed: int = 0) -> list[str] | None:
    """`n_copies` distinct reorderings of `sentence`'s whitespace-separated words, none equal to it.

    The first swaps two randomly chosen positions holding different words; the others are random shuffles. Returns
    None when the sentence has fewer than two distinct words or not enough distinct reorderings.
    """
    words = sentence.split()
    if n_copies < 1 or len(set(words)) < 2:
        return None
    rng = random.Random(f"{seed}:{sentence}")
    pairs = [(i, j) for i in range(len(words)) for j in range(i + 1, len(words)) if words[i] != words[j]]
    i, j = rng.choice(pairs)
    swapped = list(words)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    copies = [" ".join(swapped)]
    seen = {" ".join(words), copies[0]}
    for _ in range(50 * n_copies):
        if len(copies) == n_copies:
            break
        shuffled = list(words)
        rng.shuffle(shuffled)
        text = " ".join(shuffled)
        if text not in seen:
            seen.add(text)
            copies.append(text)
    return copies if len(copies) == n_copies else None


class OrderAwarenessEvaluator(TokenSpaceBaseEvaluator):
    """Order-awareness of sentence vectors.

    Each held-out sentence with at least ``min_words`` words gets ``n_copies`` perturbed copies (`perturb_sentence`:
    first a two-word swap, then shuffles; seeded). The query is the sentence's ``encode_sentences`` vector ``s``
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
                copies = perturb_sentence(sentence, n_copies, seed)
                if copies is not None:
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
