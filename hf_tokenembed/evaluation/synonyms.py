"""Synonym recall@k: a word's type vector retrieves its WordNet synonym among the whole vocabulary."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .base import TokenSpaceBaseEvaluator, check_nonempty, check_positive, retrieval_at_k, top_k

logger = logging.getLogger(__name__)

__all__ = ["SynonymRecallEvaluator"]


class SynonymRecallEvaluator(TokenSpaceBaseEvaluator):
    """Recall@k of synonyms: ``encode_words(word)`` retrieves ``synonym`` among all candidate entries.

    The candidates are the vocabulary words, the MWEs and every gold synonym (so each pair is answerable), each
    encoded with ``encode_words``; a query never retrieves itself (any candidate equal to the word, ignoring case).
    Pairs whose synonym equals the word ignoring case are dropped. The score is per (word, synonym) pair.

    Args:
        words: Query words, one per pair.
        synonyms: Their synonyms (words or multi-word expressions).
        vocabulary: Candidate entries (the vocabulary words, plus MWEs if wanted).
        k: Cut-off.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``synonym_recall@k`` (primary) and ``synonym_pairs``.
    """

    def __init__(
        self,
        words: Sequence[str],
        synonyms: Sequence[str],
        vocabulary: Sequence[str],
        k: int = 10,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        words, synonyms = check_nonempty(words, "words"), check_nonempty(synonyms, "synonyms")
        if len(words) != len(synonyms):
            raise ValueError(f"`words` has {len(words)} entries for {len(synonyms)} `synonyms`")
        self.k = check_positive(k, "k")
        self.pairs = [(w, s) for w, s in zip(words, synonyms) if w.lower() != s.lower()]
        if not self.pairs:
            raise ValueError("`synonyms` holds no pair whose synonym differs from its word")
        self.candidates = list(dict.fromkeys([*check_nonempty(vocabulary, "vocabulary"), *(s for _, s in self.pairs)]))
        self.primary_metric = f"synonym_recall@{self.k}"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        index = {c: i for i, c in enumerate(self.candidates)}
        by_lower: dict[str, list[int]] = {}
        for i, c in enumerate(self.candidates):
            by_lower.setdefault(c.lower(), []).append(i)
        queries = list(dict.fromkeys(w for w, _ in self.pairs))
        cand = model.encode_words(self.candidates, **self.encode_kwargs())
        query_vectors = model.encode_words(queries, **self.encode_kwargs())
        ranked = top_k(query_vectors, cand, self.k, exclude=[by_lower.get(q.lower(), []) for q in queries])
        row = {q: i for i, q in enumerate(queries)}
        result = retrieval_at_k(ranked[[row[w] for w, _ in self.pairs]], [[index[s]] for _, s in self.pairs], self.k)
        return {f"synonym_recall@{self.k}": result[f"recall@{self.k}"], "synonym_pairs": len(self.pairs)}
