from __future__ import annotations

import os

import evaluate
import pytest
import torch

from hf_tokenembed.evaluation import format_metrics, metric_path, retrieval_at_k, top_k
from hf_tokenembed.evaluation.metrics.retrieval_at_k.retrieval_at_k import compute_retrieval_at_k


def test_local_metric_loads_offline_and_matches_plain_function(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    metric = evaluate.load(metric_path("retrieval_at_k"), keep_in_memory=True)
    preds, refs = [[3, 1, 2], [0, 2, 1], [5, 6, 7]], [[1], [1, 2], [4]]
    expected = {"recall@2": (1 + 0.5 + 0) / 3, "accuracy@2": 2 / 3}
    assert metric.compute(predictions=preds, references=refs, k=2) == pytest.approx(expected)
    assert compute_retrieval_at_k(preds, refs, k=2) == pytest.approx(expected)
    assert retrieval_at_k(torch.tensor(preds), refs, 1) == {"recall@1": 0.0, "accuracy@1": 0.0}


def test_metric_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`k`"):
        compute_retrieval_at_k([[1]], [[1]], k=0)
    with pytest.raises(ValueError, match="`references\\[0\\]`"):
        compute_retrieval_at_k([[1]], [[]], k=1)
    with pytest.raises(ValueError, match="`predictions` is empty"):
        compute_retrieval_at_k([], [], k=1)
    with pytest.raises(ValueError, match="`name`"):
        metric_path("nope")
    assert os.path.isfile(os.path.join(metric_path("retrieval_at_k"), "retrieval_at_k.py"))


def test_top_k_ranks_and_excludes():
    candidates = torch.eye(4)
    queries = torch.tensor([[1.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.2, 1.0]])
    assert top_k(queries, candidates, 2).tolist() == [[0, 1], [3, 2]]
    assert top_k(queries, candidates, 1, exclude=[[0], []]).tolist() == [[1], [3]]
    assert top_k(queries, candidates, 10).shape == (2, 4)  # k is capped by the candidates
    with pytest.raises(ValueError, match="`k`"):
        top_k(queries, candidates, 0)


def test_format_metrics_with_baselines():
    table = format_metrics(
        {"wic_accuracy": 0.75, "synonym_recall@10": 0.5, "custom": 3.0},
        baselines={"raw": {"wic_accuracy": 0.6}},
    )
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "model", "raw"]
    assert lines[2].split() == ["synonym_recall@10", "0.5000", "-"]  # METRIC_ORDER first
    assert lines[3].split() == ["wic_accuracy", "0.7500", "0.6000"]
    assert lines[4].split() == ["custom", "3.0000", "-"]
    assert format_metrics({"sense_items": 1234.0}).splitlines()[2].split() == ["sense_items", "1,234"]
    with pytest.raises(TypeError, match="metrics"):
        format_metrics([0.5])
