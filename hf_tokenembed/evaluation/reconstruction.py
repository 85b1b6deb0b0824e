"""Scores of rebuilt texts: the `text_reconstruction` metric (token F1, BLEU, exact match, ROUGE-L) and the cosine
of each re-embedded output to its target; the same by length bucket for a `Reconstructor` (what
`hf-tokenembed evaluate-reconstruction` and the benchmark print)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .metrics import load_metric
from .metrics.text_reconstruction.text_reconstruction import compute_text_reconstruction

__all__ = [
    "BUCKETS",
    "SYSTEMS",
    "bucket_sentences",
    "evaluate_reconstruction",
    "format_reconstruction_table",
    "reconstruction_scores",
    "score_buckets",
]


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


BUCKETS = {"<= 10": (1, 10), "11-20": (11, 20), "21-40": (21, 40)}
# The two decoders every reconstruction table reports; `{}` is the bundle's own defaults (the verifier beam).
SYSTEMS = {"greedy": {"num_beams": 1, "verifier": False}, "verifier beam": {}}


def bucket_sentences(texts: Sequence[str], per_bucket: int, seed: int = 0) -> dict[str, list[str]]:
    """Up to `per_bucket` sentences (a seeded sample) of each length bucket of `BUCKETS`, in whitespace words."""
    rng = random.Random(seed)
    out = {}
    for name, (low, high) in BUCKETS.items():
        inside = [t for t in texts if low <= len(t.split()) <= high]
        out[name] = rng.sample(inside, min(per_bucket, len(inside)))
    return out


def score_buckets(
    decode: Callable[[torch.Tensor, list[str]], list[str]],
    sentences: dict[str, list[str]],
    targets: dict[str, torch.Tensor],
    embedder: Any,
    outputs: dict[str, list[str]] | None = None,
) -> dict[str, dict[str, float]]:
    """Per bucket, `decode(targets, texts) -> texts` scored by `reconstruction_scores`, plus ``seconds`` per sentence
    (the bucket decoded as one batch); the decoded texts go to `outputs[bucket]` when given."""
    rows = {}
    for bucket, texts in sentences.items():
        if not texts:
            continue
        start = time.perf_counter()
        decoded = decode(targets[bucket], texts)
        seconds = (time.perf_counter() - start) / len(texts)
        rows[bucket] = {**reconstruction_scores(decoded, texts, embedder, targets[bucket]), "seconds": seconds}
        if outputs is not None:
            outputs[bucket] = decoded
    return rows


def evaluate_reconstruction(
    reconstructor: Any, sentences: dict[str, list[str]], systems: dict[str, dict] | None = None, progress: bool = True
) -> dict[str, dict[str, dict[str, float]]]:
    """``{system: {bucket: scores}}`` of a `Reconstructor` on `sentences` (`bucket_sentences`), each system a dict
    of `reconstruct` options (default `SYSTEMS`: greedy and the verifier beam)."""
    embedder = reconstructor.embedder
    targets = {b: embedder.encode_sentences(t) for b, t in sentences.items() if t}
    systems = systems or SYSTEMS
    total = len(systems) * sum(map(len, sentences.values()))
    bar = tqdm(total=total, desc="reconstructing", unit="sentence", disable=not progress)
    results = {}
    for name, options in systems.items():
        bar.set_postfix_str(name)

        def decode(vectors, texts, options=options):
            decoded = [r["text"] for r in reconstructor.reconstruct(vectors, **options)]
            bar.update(len(texts))
            return decoded

        results[name] = score_buckets(decode, sentences, targets, embedder)
    bar.close()
    return results


def format_reconstruction_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A markdown table of `evaluate_reconstruction`'s results, one row per (system, bucket)."""
    lines = [
        "| system | bucket | token F1 | BLEU | exact | ROUGE-L | cosine | s / sentence |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for system, rows in results.items():
        for bucket, row in rows.items():
            lines.append(
                f"| {system} | {bucket} | {row['token_f1']:.3f} | {row['bleu']:.1f} | {row['exact_match']:.1%} | "
                f"{row['rouge_l']:.3f} | {row['cosine']:.3f} | {row['seconds']:.2f} |"
            )
    return "\n".join(lines)
