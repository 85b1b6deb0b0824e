"""Sense retrieval: a word's in-context vector in a WordNet example picks its sense among its lemma's senses."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from hf_tokenembed.index import SENSE_SOURCES

from .base import TokenSpaceBaseEvaluator, check_nonempty
from .sense_scoring import score_senses, sense_queries, sense_rows

logger = logging.getLogger(__name__)

__all__ = ["SenseRetrievalEvaluator"]


class SenseRetrievalEvaluator(TokenSpaceBaseEvaluator):
    """Fine (synset) and coarse (lexicographer file) sense accuracy on the WordNet examples of held-out lemmas.

    The protocol is `hf_tokenembed.evaluation.sense_scoring`'s: each example sentence of a lemma is a query, every
    sense of the lemma with its part of speech a candidate, each rebuilt from its `SENSE_SOURCES` without the query
    (leave-one-out, the same recipe for gold and non-gold); ties count ``1/n``.

    Args:
        senses: Rows of the senses table (``word``, ``synset``, ``pos``, ``lexname``, ``gloss``, ``examples``,
            ``spans``, and ``synonyms`` / ``hypernym_gloss`` where the table has them).
        lemmas: The evaluated lemmas (the WiC split's, which training never sees).
        sources: The sense-vector parts.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``sense_fine_accuracy`` (primary), ``sense_coarse_accuracy``, their ``*_random`` and ``*_first_sense``
        baselines, ``sense_coverage`` (share of queries scored: two or more candidates) and ``sense_items``.
    """

    def __init__(
        self, senses: Any, lemmas: Iterable[str], sources: Sequence[str] = SENSE_SOURCES, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.lemmas = sorted(set(check_nonempty(lemmas, "lemmas")))
        self.senses = sense_rows(senses, self.lemmas)
        if not sense_queries(self.senses):
            raise ValueError("`senses` has no WordNet example sentence for the given `lemmas`")
        self.sources = tuple(sources)
        self.primary_metric = "sense_fine_accuracy"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        result = score_senses(
            model, self.senses, self.lemmas, sources=self.sources, batch_size=self.batch_size or 64,
            progress=bool(self.show_progress_bar),
        )  # fmt: skip
        names = [f"{level}_{what}" for level in ("fine", "coarse") for what in ("accuracy", "random", "first_sense")]
        return {
            **{f"sense_{name}": result[name] for name in names},
            "sense_coverage": result["coverage"],
            "sense_items": result["num_scored"],
        }
