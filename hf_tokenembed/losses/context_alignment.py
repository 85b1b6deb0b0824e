"""Context alignment: a word in context must retrieve its own word-type, sense or phrase entry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .functional import HENDERSON_2017, check_scale, embed_columns, group_false_negative_mask, masked_info_nce

logger = logging.getLogger(__name__)

__all__ = ["ContextAlignmentLoss"]


class ContextAlignmentLoss(nn.Module):
    def __init__(self, model: nn.Module, scale: float = 20.0, symmetric: bool = False) -> None:
        """
        Tie the token-in-context space to the vocabulary entries: the vector of a word in a sentence
        (``encode_in_context``) must retrieve its own entry among the batch's entries (and any extra entries),
        where the entry is the word type, the sense entry of a homograph (``"bank (river)"``), or the phrase entry
        of a multi-word expression found in context (``"red herring"``).

        Rows with the same entry id (the same word seen in two sentences) are not negatives of each other: their
        candidates are masked out of each other's softmax. With ``symmetric=True`` the loss also averages in the
        reverse direction (each entry must retrieve its own context among the batch's contexts).

        Args:
            model: The model being trained. A TokenEmbedder pools only the tokens marked by a ``span_mask`` in the
                context column's features (the word in context); a SentenceTransformer, which has no span pooling,
                embeds the whole context text.
            scale: Inverse temperature of the cosine logits.
            symmetric: Also score entry -> context and average both directions.

        References:
            - Henderson et al. 2017, in-batch negatives ranking: https://arxiv.org/abs/1705.00652
            - Loureiro & Jorge 2019, Language Modelling Makes Sense (sense vectors from contextual embeddings):
              https://arxiv.org/abs/1906.10007

        Requirements:
            1. (context, entry) pairs, optionally followed by extra (hard-negative) entry columns.
            2. Optional integer entry ids as labels: rows sharing an id are not negatives of each other.

        Inputs:
            +------------------------------------------------+--------------------------+
            | Inputs                                         | Labels                   |
            +================================================+==========================+
            | (context, entry) pairs                         | none or entry id (int)   |
            +------------------------------------------------+--------------------------+
            | (context, entry, extra_entry_1, ...)           | none or entry id (int)   |
            +------------------------------------------------+--------------------------+

        Relations:
            - :class:`MultiNegativeRankingLoss` aligns two views of a word type; this loss aligns a token in
              context with its type / sense / phrase entry, which is what sense retrieval evaluates.

        Example:
            ::

                from hf_tokenembed.losses import ContextAlignmentLoss

                loss = ContextAlignmentLoss(model, symmetric=True)
                context = model.encode_in_context(...)  # or the trainer's cached in-context features
                value = loss.compute_loss_from_embeddings(context, entry_vectors, entry_ids,
                                                          extra_entries=hard_negative_entry_vectors)
        """
        super().__init__()
        self.model = model
        self.scale = check_scale(scale)
        if not isinstance(symmetric, bool):
            raise TypeError(f"`symmetric` must be a bool, got {type(symmetric).__name__}")
        self.symmetric = symmetric

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        embeddings = embed_columns(self.model, sentence_features)
        if len(embeddings) < 2:
            raise ValueError("`sentence_features` must hold a context column and an entry column")
        extra = torch.cat(embeddings[2:], dim=0) if len(embeddings) > 2 else None
        return self.compute_loss_from_embeddings(embeddings[0], embeddings[1], labels, extra_entries=extra)

    def compute_loss_from_embeddings(
        self,
        context: Tensor,
        entries: Tensor,
        labels: Tensor | None = None,
        *,
        extra_entries: Tensor | None = None,
        extra_entry_ids: Tensor | None = None,
    ) -> Tensor:
        """The loss from embeddings.

        Args:
            context: `(B, d)` vectors of the words / phrases in context.
            entries: `(B, d)` vectors of their entries.
            labels: Optional `(B,)` entry ids; rows sharing an id are not negatives of each other.
            extra_entries: Optional `(M, d)` more entries (hard negatives) that the contexts must rank below their own.
            extra_entry_ids: Optional `(M,)` ids of the extra entries; one equal to a row's id is masked for that row.

        Returns:
            The scalar loss.
        """
        for value, name in ((context, "context"), (entries, "entries")):
            if not isinstance(value, Tensor) or value.ndim != 2:
                raise ValueError(
                    f"`{name}` must be a (B, d) tensor, got {getattr(value, 'shape', type(value).__name__)}"
                )
        if context.shape != entries.shape:
            raise ValueError(
                f"`context` {tuple(context.shape)} and `entries` {tuple(entries.shape)} must have the same shape"
            )
        batch, dim = context.shape
        device = context.device
        keys = entries
        if extra_entries is not None:
            if not isinstance(extra_entries, Tensor) or extra_entries.ndim != 2 or extra_entries.shape[1] != dim:
                raise ValueError(
                    f"`extra_entries` must be an (M, {dim}) tensor, got {getattr(extra_entries, 'shape', None)}"
                )
            keys = torch.cat([entries, extra_entries.to(device)], dim=0)
        elif extra_entry_ids is not None:
            raise ValueError("`extra_entry_ids` given without `extra_entries`")
        targets = torch.arange(batch, device=device)
        mask = None
        if labels is not None:
            labels = _entry_ids(labels, batch, "labels").to(device)
            key_ids = labels
            if extra_entries is not None:
                if extra_entry_ids is None:
                    extra_ids = torch.full((extra_entries.shape[0],), -1, dtype=torch.long, device=device)
                else:
                    extra_ids = _entry_ids(extra_entry_ids, extra_entries.shape[0], "extra_entry_ids").to(device)
                key_ids = torch.cat([labels, extra_ids])
            mask = group_false_negative_mask(labels, key_ids, targets)
        elif extra_entry_ids is not None:
            raise ValueError("`extra_entry_ids` needs `labels` (the rows' entry ids) to compare with")
        loss = masked_info_nce(context, keys, targets, scale=self.scale, ignore_mask=mask)
        if self.symmetric:
            reverse_mask = None if labels is None else group_false_negative_mask(labels, labels, targets)
            reverse = masked_info_nce(entries, context, targets, scale=self.scale, ignore_mask=reverse_mask)
            loss = (loss + reverse) / 2
        return loss

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "symmetric": self.symmetric}

    @property
    def citation(self) -> str:
        return HENDERSON_2017


def _entry_ids(ids: Any, n: int, name: str) -> Tensor:
    if not isinstance(ids, Tensor):
        raise TypeError(f"`{name}` must be a tensor of entry ids, got {type(ids).__name__}")
    ids = ids.reshape(-1)
    if ids.numel() != n:
        raise ValueError(f"`{name}` must hold {n} entry ids, got {ids.numel()}")
    if ids.is_floating_point():
        if not torch.equal(ids, ids.round()):
            raise ValueError(f"`{name}` must be integer entry ids")
    elif ids.dtype == torch.bool:
        raise TypeError(f"`{name}` must be integer entry ids, got bool")
    return ids.long()
