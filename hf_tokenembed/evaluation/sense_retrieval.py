"""Sense retrieval: a word's in-context vector picks the right sense among its lemma's sense vectors."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from hf_tokenembed.data import lemma_key
from hf_tokenembed.index import build_sense_vectors

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty
from .sense_scoring import score_sense_items, synset_has_pos, wic_items

logger = logging.getLogger(__name__)

__all__ = ["SenseRetrievalEvaluator"]


class SenseRetrievalEvaluator(TokenSpaceBaseEvaluator):
    """Accuracy of picking the gold synset as the nearest sense vector of the lemma (same part of speech).

    Each side of each WiC row is an item (deduplicated). Sense vectors come from
    `hf_tokenembed.index.build_sense_vectors` over the lemma's rows of the senses table, with every evaluated
    sentence (``exclude_sentences``, by default the rows' own sentences, definition contexts included) held out, so
    no item is scored against a vector built from its own sentence. Items whose gold synset is not among the
    candidates are not scored (``sense_coverage``).

    Args:
        rows: WiC rows (dicts or a `datasets.Dataset`) with ``lemma``, ``pos``, ``sentence1/2``, ``start1/2``,
            ``end1/2``, ``synset1/2``.
        senses: Rows of the senses table (``word``, ``synset``, ``gloss``, ``examples``, ``spans``); only the
            evaluated lemmas' rows are kept.
        exclude_sentences: Sentences kept out of the sense vectors (default: the rows' sentences).
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``sense_accuracy`` (primary), ``sense_accuracy_examples`` / ``sense_accuracy_definitions`` (items that are
        WordNet example sentences vs ``"lemma: gloss"`` definition contexts; a held-out definition context removes
        the gold sense's own gloss vector while the other senses keep theirs, so that half is the harder one),
        ``sense_random_baseline`` (expected accuracy of a random pick among the candidates), ``sense_coverage`` and
        ``sense_items`` (scored items).
    """

    def __init__(self, rows: Any, senses: Any, exclude_sentences: Iterable[str] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        rows = rows.to_list() if hasattr(rows, "to_list") else check_nonempty(rows, "rows")
        self.items = wic_items(rows)
        if not self.items:
            raise ValueError("`rows` is empty")
        lemmas = {lemma_key(it["lemma"]) for it in self.items}
        if hasattr(senses, "column_names"):  # a datasets.Dataset: select by the word column, no cache files
            keep = [i for i, word in enumerate(senses["word"]) if lemma_key(word) in lemmas]
            senses = senses.select(keep, keep_in_memory=True).to_list()
        self.senses = [row for row in check_nonempty(senses, "senses") if lemma_key(row["word"]) in lemmas]
        if not self.senses:
            raise ValueError("`senses` has no row for the lemmas of `rows`")
        if exclude_sentences is None:
            exclude_sentences = {it["sentence"] for it in self.items}
        self.exclude_sentences = set(exclude_sentences)
        self.primary_metric = "sense_accuracy"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        vectors, meta = build_sense_vectors(
            model,
            self.senses,
            exclude_sentences=self.exclude_sentences,
            batch_size=self.batch_size or 64,
            progress=bool(self.show_progress_bar),
        )
        by_lemma: dict[str, list[int]] = {}
        for i, row in enumerate(meta):
            by_lemma.setdefault(lemma_key(row["word"]), []).append(i)
        queries = as_tensor(
            model.encode_in_context(
                [it["sentence"] for it in self.items], spans=[it["span"] for it in self.items], **self.encode_kwargs()
            )
        )

        def candidates(item: dict[str, Any]) -> tuple[list[str], Any]:
            ids = [
                i for i in by_lemma.get(lemma_key(item["lemma"]), []) if synset_has_pos(meta[i]["synset"], item["pos"])
            ]
            return [meta[i]["synset"] for i in ids], vectors[ids].numpy()

        result = score_sense_items(self.items, queries.numpy(), candidates)
        names = ("accuracy", "random_baseline", "accuracy_examples", "accuracy_definitions", "coverage")
        return {**{f"sense_{name}": result[name] for name in names}, "sense_items": result["num_scored"]}
