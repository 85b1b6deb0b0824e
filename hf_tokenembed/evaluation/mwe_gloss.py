"""MWE ↔ gloss retrieval: a multi-word expression's vector retrieves its WordNet gloss, and back."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .base import TokenSpaceBaseEvaluator, check_nonempty, check_positive, retrieval_at_k, top_k

logger = logging.getLogger(__name__)

__all__ = ["MWEGlossRetrievalEvaluator"]


class MWEGlossRetrievalEvaluator(TokenSpaceBaseEvaluator):
    """Recall@k between ``encode_words(phrase)`` and ``encode_words(gloss)`` over a set of (phrase, gloss) pairs.

    Candidates are the distinct glosses (phrase → gloss) or distinct phrases (gloss → phrase) of the pairs. The
    score is per pair: the pair's own gloss (phrase) must be in the top k.

    Args:
        phrases: Multi-word expressions, one per pair.
        glosses: Their glosses.
        k: Cut-off.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``mwe_gloss_recall@k`` (primary, phrase → gloss), ``gloss_mwe_recall@k`` (gloss → phrase) and
        ``mwe_gloss_pairs``.
    """

    def __init__(self, phrases: Sequence[str], glosses: Sequence[str], k: int = 10, **kwargs: Any):
        super().__init__(**kwargs)
        phrases, glosses = check_nonempty(phrases, "phrases"), check_nonempty(glosses, "glosses")
        if len(phrases) != len(glosses):
            raise ValueError(f"`phrases` has {len(phrases)} entries for {len(glosses)} `glosses`")
        self.pairs = list(zip(phrases, glosses))
        self.k = check_positive(k, "k")
        self.primary_metric = f"mwe_gloss_recall@{self.k}"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        phrases = list(dict.fromkeys(p for p, _ in self.pairs))
        glosses = list(dict.fromkeys(g for _, g in self.pairs))
        p_index = {p: i for i, p in enumerate(phrases)}
        g_index = {g: i for i, g in enumerate(glosses)}
        p_vec = model.encode_words(phrases, **self.encode_kwargs())
        g_vec = model.encode_words(glosses, **self.encode_kwargs())
        k = self.k
        to_gloss = top_k(p_vec, g_vec, k)[[p_index[p] for p, _ in self.pairs]]
        to_phrase = top_k(g_vec, p_vec, k)[[g_index[g] for _, g in self.pairs]]
        return {
            f"mwe_gloss_recall@{k}": retrieval_at_k(to_gloss, [[g_index[g]] for _, g in self.pairs], k)[f"recall@{k}"],
            f"gloss_mwe_recall@{k}": retrieval_at_k(to_phrase, [[p_index[p]] for p, _ in self.pairs], k)[
                f"recall@{k}"
            ],
            "mwe_gloss_pairs": len(self.pairs),
        }
