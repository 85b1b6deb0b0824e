"""Scores of rebuilt texts: the `text_reconstruction` metric (token F1, BLEU, exact match, ROUGE-L) and the cosine
of each re-embedded output to its target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .metrics import load_metric
from .metrics.text_reconstruction.text_reconstruction import compute_text_reconstruction

__all__ = ["reconstruction_scores"]


def reconstruction_scores(
    predictions: Sequence[str], references: Sequence[str], embedder: Any = None, targets: torch.Tensor | None = None
) -> dict[str, float]:
    """``token_f1``, ``bleu``, ``exact_match``, ``rouge_l`` and, with `embedder` and `targets` `(n, d)`, ``cosine``:
    the mean cosine of `embedder.encode_sentences(prediction)` to its target (0 for an empty prediction)."""
    if len(predictions) != len(references):
        raise ValueError(f"`predictions` has {len(predictions)} texts for {len(references)} `references`")
    metric = load_metric("text_reconstruction")
    if metric is None:
        scores = compute_text_reconstruction(list(predictions), list(references))
    else:
        scores = metric.compute(predictions=list(predictions), references=list(references))
    if embedder is not None and targets is not None:
        written = [i for i, p in enumerate(predictions) if p.strip()]
        cosines = torch.zeros(len(predictions))
        if written:
            vectors = embedder.encode_sentences([predictions[i] for i in written])
            cosines[written] = (vectors * F.normalize(targets[written].float(), dim=-1)).sum(-1)
        scores["cosine"] = float(cosines.mean())
    return scores
