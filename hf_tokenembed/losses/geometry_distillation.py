"""Geometry distillation: keep which texts are close to which, as a frozen teacher (the raw backbone) sees them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .functional import check_scale, embed_columns, relational_distillation

logger = logging.getLogger(__name__)

__all__ = ["GeometryDistillationLoss"]


class GeometryDistillationLoss(nn.Module):
    def __init__(
        self,
        model: nn.Module,
        teacher: nn.Module | None = None,
        weight: float = 1.0,
        neighbour_weight: float = 0.0,
        temperature: float = 0.05,
    ) -> None:
        """
        Relational distillation: ``weight`` times the MSE between the student's and the frozen teacher's in-batch
        cosine matrices over the same texts, plus ``neighbour_weight`` times the listwise KL between their softmaxes
        at ``temperature`` (each text's nearest neighbours in the batch, as the teacher ranks them).

        The contrastive token losses sharpen a word's neighbourhood (its context, its variants), but nothing in them
        says where unrelated words and phrases should sit relative to each other, and on their own they spread the
        space: synonyms and a phrase's gloss drift apart. Distilling the relations of the raw backbone keeps its
        word-level geometry (synonyms, inflections and close relatives stay near) while the other losses move what
        they must. The MSE keeps the global shape (every pair alike, so mostly the many unrelated pairs); the KL term
        keeps neighbourhoods (a synonym, a phrase and its definition), which is what nearest-neighbour retrieval
        reads. Matching cosines rather than vectors lets the student's space rotate or change dimension (the token
        head).

        Args:
            model: SentenceTransformer (or TokenEmbedder) being trained.
            teacher: Frozen SentenceTransformer giving the reference geometry (normally the raw backbone); needed by
                ``forward``, not by :meth:`compute_loss_from_embeddings` (the stage-1 trainer passes cached vectors).
            weight: Multiplier of the MSE (>= 0).
            neighbour_weight: Multiplier of the neighbourhood KL (>= 0; 0 turns it off).
            temperature: Temperature of the neighbourhood softmax (> 0).

        References:
            - Park et al. 2019, Relational Knowledge Distillation: https://arxiv.org/abs/1904.05068
            - Reimers & Gurevych 2020, knowledge distillation of sentence embeddings: https://arxiv.org/abs/2004.09813
            - Hinton et al. 2015, Distilling the Knowledge in a Neural Network (softened distributions):
              https://arxiv.org/abs/1503.02531

        Requirements:
            1. One or more columns of texts (words, phrases, sentences); all columns are pooled into one batch.

        Inputs:
            +---------------------------------+--------+
            | Inputs                          | Labels |
            +=================================+========+
            | (text_1, ..., text_n) columns   | none   |
            +---------------------------------+--------+

        Relations:
            - :class:`OrderAwareSentenceLoss` applies the same distillation to sentence vectors.
            - sentence-transformers' ``MSELoss`` distils the vectors themselves (same dimension required).

        Example:
            ::

                from datasets import Dataset
                from sentence_transformers import SentenceTransformerTrainer
                from hf_tokenembed.losses import GeometryDistillationLoss

                train_dataset = Dataset.from_dict({"text": ["bank", "shore", "red herring", "a misleading clue"]})
                loss = GeometryDistillationLoss(model, teacher=raw_backbone_sentence_transformer, weight=50.0)
                trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=loss)
                trainer.train()
        """
        super().__init__()
        self.model = model
        for name, value in (("weight", weight), ("neighbour_weight", neighbour_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
        if weight == 0 and neighbour_weight == 0:
            raise ValueError("`weight` and `neighbour_weight` are both 0: the loss would be 0")
        self.weight, self.neighbour_weight = float(weight), float(neighbour_weight)
        self.temperature = check_scale(temperature, "temperature")
        if teacher is not None and not isinstance(teacher, nn.Module):
            raise TypeError(f"`teacher` must be a SentenceTransformer or None, got {type(teacher).__name__}")
        self.teacher = teacher
        if teacher is not None:
            teacher.requires_grad_(False)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        if self.teacher is None:
            raise ValueError("`teacher` is needed to embed the teacher's view; pass it to the constructor")
        sentence_features = list(sentence_features)
        teacher_features = [dict(features) for features in sentence_features]  # the model writes into its inputs
        student = torch.cat(embed_columns(self.model, sentence_features))
        with torch.no_grad():
            teacher = torch.cat(embed_columns(self.teacher, teacher_features))
        return self.compute_loss_from_embeddings(student, teacher)

    def compute_loss_from_embeddings(self, student: Tensor, teacher: Tensor) -> Tensor:
        """The loss between `student` `(n, d)` and `teacher` `(n, h)` vectors of the same texts."""
        for value, name in ((student, "student"), (teacher, "teacher")):
            if not isinstance(value, Tensor) or value.ndim != 2:
                raise ValueError(f"`{name}` must be a 2-D tensor, got {getattr(value, 'shape', type(value).__name__)}")
        loss = self.weight * relational_distillation(student, teacher) if self.weight else 0.0
        if self.neighbour_weight:
            loss = loss + self.neighbour_weight * relational_distillation(student, teacher, self.temperature)
        return loss

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "neighbour_weight": self.neighbour_weight,
            "temperature": self.temperature,
            "teacher": None if self.teacher is None else type(self.teacher).__name__,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{park2019relational,
    title={Relational Knowledge Distillation},
    author={Wonpyo Park and Dongju Kim and Yan Lu and Minsu Cho},
    booktitle={Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition},
    year={2019},
    eprint={1904.05068},
    archivePrefix={arXiv}
}
"""
