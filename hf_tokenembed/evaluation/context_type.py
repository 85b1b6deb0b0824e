"""Context→type retrieval: a held-out sentence's word, encoded in context, retrieves its own vocabulary entry."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from .base import TokenSpaceBaseEvaluator, check_nonempty, check_positive, retrieval_at_k, top_k

logger = logging.getLogger(__name__)

__all__ = ["FREQUENCY_BANDS", "ContextTypeRetrievalEvaluator", "find_vocabulary_occurrences"]


def find_vocabulary_occurrences(
    sentences: Sequence[str], vocabulary: Sequence[str]
) -> list[tuple[str, tuple[int, int], str]]:
    """Every whole-word occurrence of a vocabulary word: ``(sentence, (start, end), vocabulary form)``.

    Words are ``[A-Za-z]+`` runs (the vocabulary's tokeniser). A token matches its exact vocabulary form, else the
    vocabulary form that equals it ignoring case (so a sentence-initial "The" is an occurrence of "the", and
    "york" one of "York").
    """
    from hf_tokenembed.data.vocab import WORD_RE

    exact = set(vocabulary)
    folded: dict[str, str] = {}
    for word in vocabulary:
        key = word.lower()
        if key not in folded or word == key:  # prefer the lower-case entry when both exist
            folded[key] = word
    found = []
    for sentence in sentences:
        for match in WORD_RE.finditer(sentence):
            token = match.group(0)
            form = token if token in exact else folded.get(token.lower())
            if form is not None:
                found.append((sentence, match.span(), form))
    return found


FREQUENCY_BANDS = {"top1k": (0, 1_000), "1k-10k": (1_000, 10_000), "rare": (10_000, None)}
"""Bands of vocabulary rank (the vocabulary is ordered by corpus frequency): ``[start, end)``."""


class ContextTypeRetrievalEvaluator(TokenSpaceBaseEvaluator):
    """Accuracy@1 of context→type retrieval over held-out corpus sentences, overall and by frequency band.

    Up to ``max_items`` (sentence, vocabulary-word occurrence) pairs are sampled uniformly (seeded) from all
    occurrences in ``sentences`` (see `find_vocabulary_occurrences`); each word is encoded in its sentence with
    ``encode_in_context`` and must retrieve its own entry among ``encode_words(vocabulary)`` (the whole vocabulary).
    A uniform sample is dominated by function words, so each band of vocabulary rank (`FREQUENCY_BANDS`, for a
    vocabulary ordered by frequency) also gets its own sample of up to ``max_items`` occurrences.

    Args:
        sentences: Held-out corpus sentences.
        vocabulary: The vocabulary words (candidates), most frequent first.
        max_items: Cap on the sampled occurrences, overall and per band (None: all).
        k: A second cut-off reported alongside accuracy@1.
        seed: Sampling seed.
        bands: Name → ``(start, end)`` vocabulary ranks (``end`` None: to the end); ``{}`` for none.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``context_type_acc@1`` (primary), ``context_type_acc@k``, ``context_type_items``, and per band
        ``context_type_acc@1_<band>`` and ``context_type_items_<band>``.
    """

    def __init__(
        self,
        sentences: Sequence[str],
        vocabulary: Sequence[str],
        max_items: int | None = 2000,
        k: int = 10,
        seed: int = 0,
        bands: dict[str, tuple[int, int | None]] = FREQUENCY_BANDS,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        sentences = check_nonempty(sentences, "sentences")
        self.vocabulary = list(dict.fromkeys(check_nonempty(vocabulary, "vocabulary")))
        self.k = check_positive(k, "k")
        if max_items is not None:
            check_positive(max_items, "max_items")
        occurrences = find_vocabulary_occurrences(sentences, self.vocabulary)
        if not occurrences:
            raise ValueError("`sentences` contain no word of `vocabulary`")

        def draw(found: list, salt: str) -> list:
            if max_items is None or len(found) <= max_items:
                return found
            return random.Random(f"{seed}{salt}").sample(found, max_items)

        self.items = draw(occurrences, "")
        rank = {w: i for i, w in enumerate(self.vocabulary)}
        self.band_items = {}
        for band, (start, end) in bands.items():
            inside = [o for o in occurrences if start <= rank[o[2]] and (end is None or rank[o[2]] < end)]
            if inside:
                self.band_items[band] = draw(inside, f":{band}")
        self.primary_metric = "context_type_acc@1"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        index = {w: i for i, w in enumerate(self.vocabulary)}
        cand = model.encode_words(self.vocabulary, **self.encode_kwargs())
        samples = {"": self.items, **{f"_{band}": items for band, items in self.band_items.items()}}
        flat = list(dict.fromkeys(o for items in samples.values() for o in items))
        row = {o: i for i, o in enumerate(flat)}
        queries = model.encode_in_context(
            [s for s, _, _ in flat], spans=[p for _, p, _ in flat], **self.encode_kwargs()
        )
        ranked = top_k(queries, cand, max(self.k, 1))
        metrics = {}
        for suffix, items in samples.items():
            picked = ranked[[row[o] for o in items]]
            gold = [[index[w]] for _, _, w in items]
            metrics[f"context_type_acc@1{suffix}"] = retrieval_at_k(picked, gold, 1)["accuracy@1"]
            if not suffix and self.k != 1:
                metrics[f"context_type_acc@{self.k}"] = retrieval_at_k(picked, gold, self.k)[f"accuracy@{self.k}"]
            metrics[f"context_type_items{suffix}"] = len(items)
        return metrics
