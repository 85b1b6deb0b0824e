"""The shared maths of the losses, written once: masked (soft-target) InfoNCE and false-negative masks.

Everything here is a pure function on tensors, so the stage-1 trainer (which embeds from a frozen-feature cache) and the
tests can call it without a model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

logger = logging.getLogger(__name__)

__all__ = [
    "check_distinct_views",
    "check_scale",
    "cosine_matrix",
    "embed_columns",
    "embed_features",
    "group_false_negative_mask",
    "guide_false_negative_mask",
    "masked_info_nce",
    "relational_distillation",
]

_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "span_mask")


def check_scale(scale: Any, name: str = "scale") -> float:
    """Return `scale` as a float, or raise if it is not a finite positive number."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"`{name}` must be a positive number, got {type(scale).__name__}")
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"`{name}` must be a finite positive number, got {scale!r}")
    return float(scale)


def check_distinct_views(anchors: Tensor, positives: Tensor, name: str = "embeddings[1]") -> None:
    """Raise if any row's positive is the anchor itself (the original recipe's `z_pos = embeds`): a positive must be
    another view of the item. Checked row by row, so one self-paired row in a batch is caught too."""
    same = (positives.detach() == anchors.detach()).all(dim=-1)
    if same.any():
        rows = same.nonzero().flatten().tolist()
        raise ValueError(
            f"`{name}` (the positives) equals the anchor in rows {rows[:5]}: a positive must be another view of the "
            "item (a synonym, the word in context, ...), never the item itself (the original recipe's "
            "`z_pos = embeds` bug); drop rows that have no real positive"
        )


def relational_distillation(students: Tensor, teachers: Tensor, temperature: float | None = None) -> Tensor:
    """How far the relations among `students` `(n, d)` are from those among frozen `teachers` `(n, h)`.

    Without `temperature`: the MSE between the off-diagonal cosine matrices (every pair counts alike). With it: the
    mean over rows of KL(teacher || student) between their softmaxes of cosine / `temperature` over the other
    rows, which weighs each item's nearest neighbours most (a listwise, neighbourhood-preserving distillation).
    Only relations are matched, so the student may rotate, rescale or change dimension (Reimers & Gurevych 2020
    distil the vectors themselves). 0 for fewer than two rows.
    """
    if students.shape[0] != teachers.shape[0]:
        raise ValueError(f"`students` has {students.shape[0]} rows but `teachers` has {teachers.shape[0]}")
    n = students.shape[0]
    if n < 2:
        return students.new_zeros(()).float()
    student = cosine_matrix(students, students)
    with torch.no_grad():
        teacher = cosine_matrix(teachers.detach(), teachers.detach()).to(student)
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=student.device)
    if temperature is None:
        return F.mse_loss(student[off_diagonal], teacher[off_diagonal])
    scale = check_scale(1.0 / temperature, "1 / temperature")
    student_logits = (student * scale).masked_fill(~off_diagonal, -torch.inf)
    teacher_logits = (teacher * scale).masked_fill(~off_diagonal, -torch.inf)
    teacher_probs = F.softmax(teacher_logits, dim=-1)
    log_ratio = torch.where(off_diagonal, F.log_softmax(teacher_logits, -1) - F.log_softmax(student_logits, -1), 0.0)
    return (teacher_probs * log_ratio).sum(-1).mean()


def _check_matrix(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (rows, dim), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _check_mask(mask: Any, shape: tuple[int, int], name: str) -> Tensor:
    if not isinstance(mask, Tensor):
        raise TypeError(f"`{name}` must be a bool torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"`{name}` must have dtype torch.bool, got {mask.dtype}")
    if tuple(mask.shape) != shape:
        raise ValueError(f"`{name}` must have shape {shape}, got {tuple(mask.shape)}")
    return mask


def cosine_matrix(a: Tensor, b: Tensor) -> Tensor:
    """`(len(a), len(b))` cosine similarities (computed in float32 at least)."""
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"cannot compare {a.shape[-1]}-d vectors with {b.shape[-1]}-d vectors")
    if a.dtype in (torch.float16, torch.bfloat16):
        a = a.float()
    if b.dtype in (torch.float16, torch.bfloat16):
        b = b.float()
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T


def masked_info_nce(
    queries: Tensor,
    keys: Tensor,
    targets: Tensor,
    *,
    scale: float = 20.0,
    ignore_mask: Tensor | None = None,
) -> Tensor:
    """Cross-entropy of scaled cosine logits, with ignored candidates and hard or soft targets.

    Args:
        queries: `(B, d)` query vectors (normalised here).
        keys: `(C, d)` candidate vectors (normalised here).
        targets: `(B,)` long index of each query's positive among the keys, or a `(B, C)` non-negative float matrix
            of soft targets (each row is renormalised to sum to 1 over the candidates that are not ignored). With
            soft targets the loss is `KL(targets || softmax)`: the cross-entropy minus the targets' entropy, which
            has the same gradients, equals the cross-entropy for one-hot rows, and is 0 when the prediction matches.
        scale: Inverse temperature applied to the cosine similarities.
        ignore_mask: `(B, C)` bool; `True` removes the candidate from that query's softmax (its logit becomes
            `-inf`), exactly as if it were not in the batch. A hard target is never ignored; soft-target mass on an
            ignored candidate is dropped before renormalising.

    Returns:
        The mean loss over the queries (a scalar).
    """
    queries = _check_matrix(queries, "queries")
    keys = _check_matrix(keys, "keys")
    if queries.shape[1] != keys.shape[1]:
        raise ValueError(f"`queries` are {queries.shape[1]}-d but `keys` are {keys.shape[1]}-d")
    scale = check_scale(scale)
    batch, n_keys = queries.shape[0], keys.shape[0]
    if batch == 0 or n_keys == 0:
        raise ValueError(f"need at least one query and one key, got {batch} queries and {n_keys} keys")
    if not isinstance(targets, Tensor):
        raise TypeError(f"`targets` must be a torch.Tensor, got {type(targets).__name__}")
    if ignore_mask is not None:
        ignore_mask = _check_mask(ignore_mask, (batch, n_keys), "ignore_mask").to(queries.device)

    logits = cosine_matrix(queries, keys) * scale
    if targets.ndim == 1:
        if targets.is_floating_point() or targets.dtype == torch.bool or targets.shape[0] != batch:
            raise ValueError(
                f"hard `targets` must be a ({batch},) integer tensor, got {targets.dtype} {tuple(targets.shape)}"
            )
        targets = targets.to(queries.device, torch.long)
        if targets.min() < 0 or targets.max() >= n_keys:
            raise ValueError(
                f"`targets` must index the {n_keys} keys, got values in [{targets.min()}, {targets.max()}]"
            )
        if ignore_mask is not None:
            keep_target = torch.zeros_like(ignore_mask)
            keep_target[torch.arange(batch, device=ignore_mask.device), targets] = True
            logits = logits.masked_fill(ignore_mask & ~keep_target, -torch.inf)
        return F.cross_entropy(logits, targets)

    if targets.ndim != 2 or tuple(targets.shape) != (batch, n_keys):
        raise ValueError(f"soft `targets` must have shape {(batch, n_keys)}, got {tuple(targets.shape)}")
    if not targets.is_floating_point():
        raise TypeError(f"soft `targets` must be floating point, got {targets.dtype}")
    targets = targets.to(logits.device, logits.dtype)
    if not torch.isfinite(targets).all() or (targets < 0).any():
        raise ValueError("soft `targets` must be finite and non-negative")
    if ignore_mask is not None:
        targets = targets.masked_fill(ignore_mask, 0.0)
        logits = logits.masked_fill(ignore_mask, -torch.inf)
    mass = targets.sum(dim=1, keepdim=True)
    if (mass <= 0).any():
        rows = (mass.squeeze(1) <= 0).nonzero().flatten().tolist()
        raise ValueError(f"soft `targets` rows {rows[:5]} have no mass on a candidate that is not ignored")
    targets = targets / mass
    log_probs = F.log_softmax(logits, dim=1)
    # KL(targets || softmax): the cross-entropy minus the targets' (constant) entropy. Same gradients, but a
    # prediction equal to the targets scores 0, so losses with different soft targets compare fairly. Candidates
    # without target mass contribute nothing (and 0 * -inf must not become nan).
    has_mass = targets > 0
    log_targets = torch.log(torch.where(has_mass, targets, torch.ones_like(targets)))
    per_row = torch.where(has_mass, targets * (log_targets - log_probs), torch.zeros_like(log_probs)).sum(dim=1)
    return per_row.mean()


def guide_false_negative_mask(
    guide_q: Tensor, guide_keys: Tensor, positive_index: Tensor, margin: float = 0.1
) -> Tensor:
    """The GISTEmbed false-negative rule in a guide space.

    Candidate `j` is masked for anchor `i` when `guide_sim(i, j) > guide_sim(i, pos_i) - margin`: the guide finds it
    about as close to the anchor as the anchor's own positive, so it is probably a synonym or a duplicate rather
    than a negative. The positive itself is never masked.

    Args:
        guide_q: `(B, g)` anchor vectors in the guide space.
        guide_keys: `(C, g)` candidate vectors in the guide space.
        positive_index: `(B,)` long index of each anchor's positive among the candidates.
        margin: How far below the positive's guide similarity a candidate must stay to count as a negative.

    Returns:
        `(B, C)` bool mask, `True` = ignore this candidate.
    """
    guide_q = _check_matrix(guide_q, "guide_q")
    guide_keys = _check_matrix(guide_keys, "guide_keys")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not math.isfinite(margin):
        raise TypeError(f"`margin` must be a finite number, got {margin!r}")
    positive_index = _check_index(positive_index, guide_q.shape[0], guide_keys.shape[0], "positive_index")
    with torch.no_grad():
        sims = cosine_matrix(guide_q.detach(), guide_keys.detach())
        rows = torch.arange(sims.shape[0], device=sims.device)
        positive_index = positive_index.to(sims.device)
        threshold = sims[rows, positive_index].unsqueeze(1) - margin
        mask = sims > threshold
        mask[rows, positive_index] = False
    return mask


def group_false_negative_mask(
    query_groups: Tensor, key_groups: Tensor, positive_index: Tensor | None = None
) -> Tensor:
    """Mask candidates whose group id equals the query's (variants, synonyms, the same entry), except the positive.

    Args:
        query_groups: `(B,)` group ids of the queries.
        key_groups: `(C,)` group ids of the candidates; a negative id means "no group" and is never masked.
        positive_index: `(B,)` long index of each query's positive among the candidates (kept unmasked).

    Returns:
        `(B, C)` bool mask, `True` = ignore this candidate.
    """
    for value, name in ((query_groups, "query_groups"), (key_groups, "key_groups")):
        if not isinstance(value, Tensor) or value.ndim != 1:
            raise ValueError(f"`{name}` must be a 1-D tensor of group ids, got {getattr(value, 'shape', value)!r}")
    key_groups = key_groups.to(query_groups.device)
    mask = (query_groups.unsqueeze(1) == key_groups.unsqueeze(0)) & (key_groups >= 0).unsqueeze(0)
    if positive_index is not None:
        positive_index = _check_index(positive_index, len(query_groups), len(key_groups), "positive_index")
        mask[torch.arange(len(query_groups), device=mask.device), positive_index.to(mask.device)] = False
    return mask


def _check_index(index: Any, rows: int, n_keys: int, name: str) -> Tensor:
    if not isinstance(index, Tensor) or index.ndim != 1 or index.is_floating_point() or index.dtype == torch.bool:
        raise TypeError(f"`{name}` must be a 1-D integer tensor, got {getattr(index, 'dtype', type(index).__name__)}")
    if index.shape[0] != rows:
        raise ValueError(f"`{name}` has {index.shape[0]} entries for {rows} queries")
    if rows and (index.min() < 0 or index.max() >= n_keys):
        raise ValueError(f"`{name}` must index the {n_keys} candidates")
    return index.long()


def embed_features(model: nn.Module, features: Mapping[str, Any], output: str = "embeddings") -> Tensor:
    """One column's vectors.

    A SentenceTransformer gives `model(features)["sentence_embedding"]`. A TokenEmbedder is called on the features
    (so a `span_mask` pools the word in context) and gives its `output` field: `"embeddings"` (token-space vectors)
    or `"pooled"` (the sentence vectors, L2-normalised here as `encode_sentences` does).
    """
    from sentence_transformers import SentenceTransformer

    if isinstance(model, SentenceTransformer):
        return model(features)["sentence_embedding"]
    if output not in ("embeddings", "pooled"):
        raise ValueError(f"`output` must be 'embeddings' or 'pooled', got {output!r}")
    inputs = {name: features[name] for name in _MODEL_INPUTS if name in features}
    result = model(**inputs, return_dict=True)
    if "sentence_embedding" in result:
        return result["sentence_embedding"]
    if output == "pooled":
        return F.normalize(result["pooled"], dim=-1)
    return result["embeddings"]


def embed_columns(
    model: nn.Module, sentence_features: Iterable[Mapping[str, Any]], output: str = "embeddings"
) -> list[Tensor]:
    """Embed every column with :func:`embed_features`."""
    return [embed_features(model, features, output) for features in sentence_features]


HENDERSON_2017 = """
@misc{henderson2017efficient,
    title={Efficient Natural Language Response Suggestion for Smart Reply},
    author={Matthew Henderson and Rami Al-Rfou and Brian Strope and Yun-hsuan Sung and Laszlo Lukacs and Ruiqi Guo and Sanjiv Kumar and Balint Miklos and Ray Kurzweil},
    year={2017},
    eprint={1705.00652},
    archivePrefix={arXiv},
    primaryClass={cs.CL}
}
"""
