"""Shared pieces of the token-space evaluators: the base class, retrieval, the `retrieval_at_k` metric, caching."""

from __future__ import annotations

import csv
import logging
import os
import random
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

try:  # sentence-transformers >= 6 keeps the evaluator base classes under `base`
    from sentence_transformers.base.evaluation.evaluator import SentenceEvaluator
except ImportError:  # pragma: no cover - older sentence-transformers
    from sentence_transformers.evaluation import SentenceEvaluator

from .metrics import load_metric
from .metrics.retrieval_at_k.retrieval_at_k import compute_retrieval_at_k

logger = logging.getLogger(__name__)

__all__ = ["CachedEncoder", "TokenSpaceBaseEvaluator", "retrieval_at_k", "sample", "top_k"]


def check_positive(value: Any, name: str) -> int:
    """`value` as a positive int, or a ValueError naming `name`."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    return value


def check_nonempty(items: Sequence, name: str) -> list:
    """`items` as a list, or a ValueError naming `name` when it is empty."""
    if isinstance(items, str) or items is None:
        raise TypeError(f"`{name}` must be a list, got {type(items).__name__}")
    items = list(items)
    if not items:
        raise ValueError(f"`{name}` is empty")
    return items


def sample(items: Sequence, max_items: int | None, seed: int) -> list:
    """Up to `max_items` of `items` (all when None), a seeded uniform sample that keeps their order."""
    items = list(items)
    if max_items is None or len(items) <= max_items:
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), check_positive(max_items, "max_items")))
    return [items[i] for i in keep]


def as_tensor(vectors: Any) -> torch.Tensor:
    """Encoder output as a float32 CPU tensor."""
    return (
        torch.as_tensor(np.asarray(vectors) if not isinstance(vectors, torch.Tensor) else vectors)
        .detach()
        .to("cpu", torch.float32)
    )


def top_k(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    *,
    exclude: Sequence[Sequence[int]] | None = None,
    chunk_size: int = 512,
) -> torch.Tensor:
    """Ids of the `k` candidates with the largest inner product per query (best first), by chunked matmul.

    `exclude[i]` lists candidate ids query `i` may not retrieve (e.g. the query word itself).
    """
    check_positive(k, "k")
    k = min(k, candidates.shape[0])
    out = []
    for start in range(0, queries.shape[0], chunk_size):
        scores = queries[start : start + chunk_size] @ candidates.T
        if exclude is not None:
            for row, ids in enumerate(exclude[start : start + chunk_size]):
                if ids:
                    scores[row, list(ids)] = -torch.inf
        out.append(scores.topk(k, dim=1).indices)
    return torch.cat(out) if out else torch.empty((0, k), dtype=torch.long)


def retrieval_at_k(ranked: torch.Tensor | Sequence[Sequence[int]], gold: Sequence[Sequence[int]], k: int) -> dict:
    """``{"recall@k", "accuracy@k"}`` through the local `evaluate` metric ``retrieval_at_k``."""
    check_positive(k, "k")
    predictions = [list(map(int, row[:k])) for row in (ranked.tolist() if torch.is_tensor(ranked) else ranked)]
    references = [list(map(int, ids)) for ids in gold]
    metric = load_metric("retrieval_at_k")
    if metric is None:
        return compute_retrieval_at_k(predictions, references, k=k)
    return metric.compute(predictions=predictions, references=references, k=k)


class CachedEncoder:
    """Wraps an embedder for one evaluation run: `encode_words` / `encode_sentences` results are memoised per text.

    The composite evaluator shares one across its evaluators, so the vocabulary is encoded once. Any other
    attribute is the wrapped model's.
    """

    def __init__(self, model: Any):
        self.model = model
        self._words: dict[str, torch.Tensor] = {}
        self._sentences: dict[str, torch.Tensor] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def _cached(self, cache: dict[str, torch.Tensor], encode, texts: Sequence[str], **kwargs) -> torch.Tensor:
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            vectors = as_tensor(encode(missing, **kwargs))
            cache.update(zip(missing, vectors))
        if not texts:
            return as_tensor(encode([], **kwargs))
        return torch.stack([cache[t] for t in texts])

    def encode_words(self, words: Sequence[str], **kwargs) -> torch.Tensor:
        return self._cached(self._words, self.model.encode_words, list(words), **kwargs)

    def encode_sentences(self, sentences: Sequence[str], **kwargs) -> torch.Tensor:
        return self._cached(self._sentences, self.model.encode_sentences, list(sentences), **kwargs)

    def encode_in_context(self, sentences: Sequence[str], spans: Sequence[tuple[int, int]], **kwargs) -> torch.Tensor:
        return self.model.encode_in_context(sentences, spans=spans, **kwargs)


class TokenSpaceBaseEvaluator(SentenceEvaluator):
    """Base of the token-space evaluators: name prefixing, csv writing, logging and model-card bookkeeping.

    Subclasses implement `compute_metrics(model) -> dict[str, float]` and set `primary_metric`.

    Args:
        name: Prefix of every metric name (``f"{name}_{metric}"``); empty for none.
        batch_size: Encoder batch size (None: each encode method's default; `TokenEmbedder.encode_words` batches
            256 short texts, much faster than 64).
        show_progress_bar: Show encoder progress bars (None: the encoder decides).
        write_csv: Append the metrics to ``<output_path>/<csv_file>`` (e.g. ``wic_evaluation_results.csv``) when an
            output path is given.
    """

    def __init__(
        self,
        name: str = "",
        batch_size: int | None = None,
        show_progress_bar: bool | None = None,
        write_csv: bool = True,
    ):
        super().__init__()
        self.name = name
        self.batch_size = None if batch_size is None else check_positive(batch_size, "batch_size")
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        stem = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", type(self).__name__.removesuffix("Evaluator")).lower()
        self.csv_file = f"{stem}_evaluation" + (f"_{name}" if name else "") + "_results.csv"

    def compute_metrics(self, model: Any) -> dict[str, float]:
        raise NotImplementedError

    def encode_kwargs(self) -> dict[str, Any]:
        kwargs = {"show_progress_bar": self.show_progress_bar}
        if self.batch_size is not None:
            kwargs["batch_size"] = self.batch_size
        return kwargs

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        where = f" after epoch {epoch}" + (f", {steps} steps" if steps != -1 else "") if epoch != -1 else ""
        logger.info("%s: evaluating%s", self.__class__.__name__, where)
        metrics = {key: float(value) for key, value in self.compute_metrics(model).items()}
        for key, value in metrics.items():
            logger.info("  %-28s %.4f", key, value)
        if output_path is not None and self.write_csv:
            self._write_csv(metrics, output_path, epoch, steps)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        if hasattr(model, "model_card_data"):
            self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _write_csv(self, metrics: dict[str, float], output_path: str, epoch: int, steps: int) -> None:
        os.makedirs(output_path, exist_ok=True)
        path = os.path.join(output_path, self.csv_file)
        new = not os.path.isfile(path)
        with open(path, newline="", mode="a", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["epoch", "steps", *metrics])
            writer.writerow([epoch, steps, *metrics.values()])

    def get_config_dict(self) -> dict[str, Any]:
        return {}
