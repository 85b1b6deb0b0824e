"""Recall@k and accuracy@k of ranked candidate ids against gold ids, as an `evaluate.Metric`.

Load it offline by local path: ``evaluate.load(hf_tokenembed.evaluation.metrics.metric_path("retrieval_at_k"))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import evaluate

__all__ = ["RetrievalAtK", "compute_retrieval_at_k"]

_DESCRIPTION = """
Retrieval quality of ranked lists. For each query, `predictions` holds candidate ids ranked best first and
`references` the ids of its gold candidates. recall@k is the mean over queries of the fraction of gold ids found
in the top k; accuracy@k is the fraction of queries with at least one gold id in the top k (with one gold id per
query the two are equal).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): ranked candidate ids per query, best first (at least k of them,
        or all candidates when there are fewer).
    references (`list` of `list` of `int`): gold candidate ids per query (non-empty).
    k (`int`, defaults to 10): cut-off.
Returns:
    `recall@k` (`float`) and `accuracy@k` (`float`), in [0, 1].
Examples:
    >>> metric = evaluate.load("hf_tokenembed/evaluation/metrics/retrieval_at_k")
    >>> metric.compute(predictions=[[3, 1, 2], [0, 2, 1]], references=[[1], [1, 2]], k=2)
    {'recall@2': 0.75, 'accuracy@2': 1.0}
"""

_CITATION = """
@book{manning2008introduction,
  title={Introduction to Information Retrieval},
  author={Manning, Christopher D. and Raghavan, Prabhakar and Sch{\"u}tze, Hinrich},
  year={2008},
  publisher={Cambridge University Press}
}
"""


def compute_retrieval_at_k(
    predictions: Sequence[Sequence[int]], references: Sequence[Sequence[int]], k: int = 10
) -> dict[str, float]:
    """The metric's maths as a plain function: ``{"recall@k": ..., "accuracy@k": ...}``."""
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"`k` must be a positive int, got {k!r}")
    if len(predictions) != len(references):
        raise ValueError(f"`predictions` has {len(predictions)} rows for {len(references)} `references`")
    if not predictions:
        raise ValueError("`predictions` is empty")
    recall = hits = 0.0
    for i, (ranked, gold) in enumerate(zip(predictions, references)):
        gold = set(gold)
        if not gold:
            raise ValueError(f"`references[{i}]` is empty")
        found = len(gold.intersection(list(ranked)[:k]))
        recall += found / len(gold)
        hits += found > 0
    return {f"recall@{k}": recall / len(predictions), f"accuracy@{k}": hits / len(predictions)}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RetrievalAtK(evaluate.Metric):
    """recall@k / accuracy@k of ranked ids against gold ids."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Sequence(datasets.Value("int64")),
                }
            ),
        )

    def _compute(self, predictions, references, k: int = 10) -> dict[str, float]:
        return compute_retrieval_at_k(predictions, references, k=k)
