"""All token-space evaluators in sequence, returning one flat dict of metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

try:  # sentence-transformers >= 6 keeps the evaluator base classes under `base`
    from sentence_transformers.base.evaluation.sequential import SequentialEvaluator
except ImportError:  # pragma: no cover - older sentence-transformers
    from sentence_transformers.evaluation import SequentialEvaluator

from .base import CachedEncoder

logger = logging.getLogger(__name__)

__all__ = ["TokenSpaceEvaluator"]


def _mean(scores: list[float]) -> float:
    scores = [s for s in scores if s == s]  # drop NaN
    return sum(scores) / len(scores) if scores else float("nan")


class TokenSpaceEvaluator(SequentialEvaluator):
    """Runs the token-space evaluators one after the other and merges their metrics into one flat dict.

    The model is wrapped in a `CachedEncoder` for the run, so texts shared by several evaluators (the vocabulary
    for synonyms and context→type, held-out sentences) are encoded once. ``token_space_score`` (the primary metric)
    is the mean of the evaluators' primary metrics (NaNs skipped); ``eval_seconds`` is the wall time.

    Args:
        evaluators: `TokenSpaceBaseEvaluator` instances (any `SentenceEvaluator` returning a dict works).
        main_score_function: Maps the list of primary scores to ``token_space_score`` (default: their mean).
    """

    def __init__(self, evaluators: Iterable[Any], main_score_function=_mean):
        super().__init__(evaluators, main_score_function=main_score_function)
        self.primary_metric = "token_space_score"

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        start = time.perf_counter()
        cached = CachedEncoder(model)
        results: dict[str, float] = {}
        scores = []
        for evaluator in self.evaluators:
            tick = time.perf_counter()
            metrics = evaluator(cached, output_path, epoch, steps)
            if not isinstance(metrics, dict):
                metrics = {type(evaluator).__name__: float(metrics)}
            primary = getattr(evaluator, "primary_metric", None) or next(iter(metrics))
            scores.append(metrics[primary])
            results.update(metrics)
            logger.info("%s took %.1fs", type(evaluator).__name__, time.perf_counter() - tick)
        results["token_space_score"] = float(self.main_score_function(scores)) if scores else float("nan")
        results["eval_seconds"] = time.perf_counter() - start
        self.primary_metric = "token_space_score"
        return results
