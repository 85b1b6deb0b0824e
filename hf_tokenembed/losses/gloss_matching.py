"""Gloss matching (BEM-style): a word in context must pick its own sense's gloss among the senses of its lemma."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .functional import check_scale, embed_columns, masked_info_nce

logger = logging.getLogger(__name__)

__all__ = ["GlossMatchingLoss"]

BLEVINS_2020 = """
@inproceedings{blevins2020moving,
    title={Moving Down the Long Tail of Word Sense Disambiguation with Gloss Informed Bi-encoders},
    author={Terra Blevins and Luke Zettlemoyer},
    booktitle={Proceedings of the 58th Annual Meeting of the Association for Computational Linguistics},
    year={2020},
    url={https://arxiv.org/abs/2005.02590}
}
"""


class GlossMatchingLoss(nn.Module):
    def __init__(self, model: nn.Module, scale: float = 20.0) -> None:
        """
        Bi-encoder gloss matching: the vector of a word in one of its example sentences must score its own sense's
        gloss vector above the glosses of the lemma's other senses. The softmax runs over the senses of the
        row's lemma only (BEM's per-lemma softmax), never over other words' glosses: telling "bank (river)" from
        "bank (money)" is the task, telling "bank" from "pitch" is not.

        A row whose lemma has a single candidate sense carries no signal and is left out of the mean.

        Args:
            model: The model being trained (a TokenEmbedder pools the ``span_mask`` tokens of the context column).
            scale: Inverse temperature of the cosine logits.

        References:
            - Blevins & Zettlemoyer 2020, BEM: https://arxiv.org/abs/2005.02590

        Requirements:
            1. (example sentence with the word's span, gloss) pairs, one row per sense in the batch.
            2. Integer lemma ids as labels: the glosses of the rows with the row's lemma id are its candidates.

        Inputs:
            +------------------------------------------------+--------------------------+
            | Inputs                                         | Labels                   |
            +================================================+==========================+
            | (context, gloss) pairs                         | lemma id (int)           |
            +------------------------------------------------+--------------------------+

        Relations:
            - :class:`ContextAlignmentLoss` ranks a context's entry against every entry in the batch; this loss
              ranks only among the senses of one lemma, which is what sense accuracy measures.

        Example:
            ::

                from hf_tokenembed.losses import GlossMatchingLoss

                loss = GlossMatchingLoss(model)
                # towers: (S, d) gloss vectors; gold: (B,) index of each row's sense; candidates: (B, S) bool,
                # the senses of each row's lemma
                value = loss.compute_loss_from_embeddings(context, towers, gold, candidates)
        """
        super().__init__()
        self.model = model
        self.scale = check_scale(scale)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embeddings = embed_columns(self.model, sentence_features)
        if len(embeddings) != 2:
            raise ValueError("`sentence_features` must hold a context column and a gloss column")
        if not isinstance(labels, Tensor) or labels.ndim != 1 or labels.numel() != embeddings[0].shape[0]:
            raise ValueError(f"`labels` must be a ({embeddings[0].shape[0]},) tensor of lemma ids")
        labels = labels.to(embeddings[0].device)
        candidates = labels[:, None] == labels[None, :]
        gold = torch.arange(len(labels), device=labels.device)
        return self.compute_loss_from_embeddings(embeddings[0], embeddings[1], gold, candidates)

    def compute_loss_from_embeddings(
        self, context: Tensor, glosses: Tensor, gold: Tensor, candidates: Tensor
    ) -> Tensor:
        """The loss from embeddings.

        Args:
            context: `(B, d)` vectors of the words in their example sentences.
            glosses: `(S, d)` gloss vectors of the candidate senses.
            gold: `(B,)` long index of each row's own sense among `glosses`.
            candidates: `(B, S)` bool, the senses of each row's lemma (its own sense included).

        Returns:
            The mean loss over the rows with two candidates or more (0 when there are none).
        """
        if not isinstance(gold, Tensor) or gold.ndim != 1 or gold.shape[0] != context.shape[0]:
            raise ValueError(f"`gold` must be a ({context.shape[0]},) tensor of sense indices")
        if not isinstance(candidates, Tensor) or candidates.dtype != torch.bool:
            raise TypeError("`candidates` must be a bool tensor")
        if tuple(candidates.shape) != (context.shape[0], glosses.shape[0]):
            raise ValueError(f"`candidates` must have shape {(context.shape[0], glosses.shape[0])}")
        rows = torch.arange(len(gold), device=candidates.device)
        gold = gold.to(candidates.device, torch.long)
        if not candidates[rows, gold].all():
            raise ValueError("every row's `gold` sense must be among its `candidates`")
        informative = candidates.sum(1) >= 2
        if not informative.any():
            return context.sum() * 0.0
        keep = informative.nonzero().flatten()
        return masked_info_nce(
            context[keep], glosses, gold[keep], scale=self.scale, ignore_mask=~candidates[keep].to(context.device)
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.scale}

    @property
    def citation(self) -> str:
        return BLEVINS_2020
