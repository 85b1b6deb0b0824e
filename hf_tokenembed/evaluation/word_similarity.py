"""Word similarity against human judgements (SimLex-999, WordSim-353): external sets this project never trains on.

Both lists ship inside the PyPI package `gensim` (its test data); they are read from the installed files, gensim
itself is not imported. ``pip install gensim`` (in the ``dev`` extra) provides them offline.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty

logger = logging.getLogger(__name__)

__all__ = ["WORD_SIMILARITY_SETS", "WordSimilarityEvaluator", "load_word_similarity"]

WORD_SIMILARITY_SETS = {"simlex999": "simlex999.txt", "wordsim353": "wordsim353.tsv"}


def load_word_similarity(name: str) -> list[tuple[str, str, float]]:
    """``(word_1, word_2, human score)`` rows of a packaged word-similarity set."""
    if name not in WORD_SIMILARITY_SETS:
        raise ValueError(f"`name` must be one of {sorted(WORD_SIMILARITY_SETS)}, got {name!r}")
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"`name`={name!r} is read from the PyPI package gensim: `pip install gensim`")
    path = Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data" / WORD_SIMILARITY_SETS[name]
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            first, second, score = line.split("\t")[:3]
            rows.append((first, second, float(score)))
    return rows


class WordSimilarityEvaluator(TokenSpaceBaseEvaluator):
    """Spearman correlation between ``encode_words`` cosines and human similarity scores of word pairs.

    Args:
        words1, words2: The pairs' words.
        scores: Their human scores.
        name: Prefix of the metric (the set's name).
        batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``<name>_spearman`` (primary) and ``<name>_pairs``.
    """

    def __init__(
        self, words1: Sequence[str], words2: Sequence[str], scores: Sequence[float], name: str = "", **kwargs: Any
    ):
        super().__init__(name=name, **kwargs)
        words1, words2, scores = (
            check_nonempty(x, n) for x, n in ((words1, "words1"), (words2, "words2"), (scores, "scores"))
        )
        if not len(words1) == len(words2) == len(scores):
            raise ValueError(
                f"`words1`, `words2` and `scores` differ in length: {len(words1)}, {len(words2)}, {len(scores)}"
            )
        self.pairs = list(zip(words1, words2))
        self.scores = [float(s) for s in scores]
        self.primary_metric = "spearman"

    @classmethod
    def from_set(cls, name: str, **kwargs: Any) -> WordSimilarityEvaluator:
        """The evaluator of a packaged set (`WORD_SIMILARITY_SETS`), its metrics prefixed with its name."""
        rows = load_word_similarity(name)
        return cls([a for a, _, _ in rows], [b for _, b, _ in rows], [s for _, _, s in rows], name=name, **kwargs)

    def compute_metrics(self, model: Any) -> dict[str, float]:
        words = list(dict.fromkeys(w for pair in self.pairs for w in pair))
        vectors = dict(zip(words, as_tensor(model.encode_words(words, **self.encode_kwargs()))))
        cosines = [float(vectors[a] @ vectors[b]) for a, b in self.pairs]
        return {"spearman": float(spearmanr(cosines, self.scores).statistic), "pairs": len(self.pairs)}
