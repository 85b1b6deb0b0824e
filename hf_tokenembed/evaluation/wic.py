"""WiC-style accuracy: are two in-context uses of a lemma the same sense? Cosine against a threshold tuned on dev."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import TokenSpaceBaseEvaluator, as_tensor, check_nonempty

logger = logging.getLogger(__name__)

__all__ = ["WiCEvaluator", "best_threshold", "example_pairs", "wic_cosines"]

_COLUMNS = ("sentence1", "start1", "end1", "sentence2", "start2", "end2", "label")


def best_threshold(scores: Sequence[float], labels: Sequence[int]) -> tuple[float, float]:
    """The threshold ``t`` maximising the accuracy of ``score >= t`` ⇔ ``label == 1``, and that accuracy.

    Cut points lie midway between consecutive distinct scores (or just outside their range); ties go to the
    lowest threshold among the best.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    if scores.ndim != 1 or scores.shape != labels.shape or not len(scores):
        raise ValueError(
            f"`scores` and `labels` must be non-empty and of equal length, got {scores.shape} and {labels.shape}"
        )
    values = np.unique(scores)
    cuts = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    order = np.sort(scores)
    below = np.searchsorted(order, cuts, side="left")  # scores < cut: predicted 0
    neg_sorted = np.sort(scores[~labels])
    neg_below = np.searchsorted(neg_sorted, cuts, side="left")
    pos_at_or_above = labels.sum() - (below - neg_below)
    accuracy = (neg_below + pos_at_or_above) / len(scores)
    best = int(np.argmax(accuracy))
    return float(cuts[best]), float(accuracy[best])


def _rows(rows: Any, name: str) -> list[dict[str, Any]]:
    rows = rows.to_list() if hasattr(rows, "to_list") else check_nonempty(rows, name)
    if not rows:
        raise ValueError(f"`{name}` is empty")
    missing = [c for c in _COLUMNS if c not in rows[0]]
    if missing:
        raise ValueError(f"`{name}` lacks the WiC columns {missing}")
    return rows


def example_pairs(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """Bool mask of the rows whose two contexts are both WordNet examples (no ``"lemma: gloss"`` definition)."""

    def definition(row: dict[str, Any], side: str) -> bool:
        return int(row[f"start{side}"]) == 0 and row[f"sentence{side}"].startswith(f"{row.get('lemma', '')}: ")

    return np.array([not (definition(row, "1") or definition(row, "2")) for row in rows], dtype=bool)


def wic_cosines(model: Any, rows: Sequence[dict[str, Any]], **encode_kwargs: Any) -> np.ndarray:
    """Cosine of the two in-context vectors of each WiC row (each distinct context encoded once)."""
    contexts = list(
        dict.fromkeys(
            (row[f"sentence{side}"], (int(row[f"start{side}"]), int(row[f"end{side}"])))
            for row in rows
            for side in "12"
        )
    )
    vectors = as_tensor(
        model.encode_in_context([s for s, _ in contexts], spans=[p for _, p in contexts], **encode_kwargs)
    )
    position = {c: i for i, c in enumerate(contexts)}

    def side(row: dict[str, Any], s: str) -> int:
        return position[(row[f"sentence{s}"], (int(row[f"start{s}"]), int(row[f"end{s}"])))]

    left = vectors[[side(row, "1") for row in rows]]
    right = vectors[[side(row, "2") for row in rows]]
    return (left * right).sum(-1).numpy()


class WiCEvaluator(TokenSpaceBaseEvaluator):
    """WiC-style accuracy of ``cos(in-context vector 1, in-context vector 2) >= threshold``.

    The threshold is the best one on ``dev_rows`` (see `best_threshold`); the accuracy is measured on
    ``test_rows`` with that threshold. Pass the same rows twice to tune and score on one split (optimistic).

    Args:
        dev_rows: WiC rows (dicts or a `datasets.Dataset`) with ``sentence1``, ``start1``, ``end1``, ``sentence2``,
            ``start2``, ``end2``, ``label`` that choose the threshold.
        test_rows: WiC rows the accuracy is reported on.
        name, batch_size, show_progress_bar, write_csv: See `TokenSpaceBaseEvaluator`.

    Returns (from ``__call__``):
        ``wic_accuracy`` (primary, on the test rows), ``wic_threshold``, ``wic_dev_accuracy`` and
        ``wic_majority_baseline`` (the test accuracy of always answering the majority label); the same four with
        ``wic_examples_`` on the pairs of two WordNet examples only (threshold tuned on dev's such pairs; see
        `example_pairs`), when both splits have some.
    """

    def __init__(self, dev_rows: Any, test_rows: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.dev_rows = _rows(dev_rows, "dev_rows")
        self.test_rows = _rows(test_rows, "test_rows")
        self.primary_metric = "wic_accuracy"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        dev, test = self._cosines_and_labels(model, self.dev_rows), self._cosines_and_labels(model, self.test_rows)
        out = self._score(dev, test, "wic_")
        dev_ex, test_ex = example_pairs(self.dev_rows), example_pairs(self.test_rows)
        if dev_ex.any() and test_ex.any():
            out.update(self._score(tuple(x[dev_ex] for x in dev), tuple(x[test_ex] for x in test), "wic_examples_"))
        return out

    def _cosines_and_labels(self, model: Any, rows: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        labels = np.asarray([int(r["label"]) for r in rows]).astype(bool)
        return wic_cosines(model, rows, **self.encode_kwargs()), labels

    @staticmethod
    def _score(dev: tuple, test: tuple, prefix: str) -> dict[str, float]:
        threshold, dev_accuracy = best_threshold(*dev)
        cosines, labels = test
        positive = float(labels.mean())
        return {
            f"{prefix}accuracy": float(((cosines >= threshold) == labels).mean()),
            f"{prefix}threshold": threshold,
            f"{prefix}dev_accuracy": dev_accuracy,
            f"{prefix}majority_baseline": max(positive, 1 - positive),
        }
