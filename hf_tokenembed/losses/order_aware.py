"""Order-aware sentence loss: word-swapped / shuffled copies are hard negatives, distillation keeps the geometry."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hf_tokenembed.data.word_order import perturb_word_order

from .functional import check_scale, embed_columns, embed_features, masked_info_nce, relational_distillation

logger = logging.getLogger(__name__)

__all__ = ["OrderAwareSentenceLoss", "perturb_word_order"]

PositiveView = Literal["auto", "teacher", "dropout", "detached"]


def _check_weight(weight: Any, name: str) -> float:
    """Return `weight` as a float, or raise if it is not a finite number >= 0."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise TypeError(f"`{name}` must be a number, got {type(weight).__name__}")
    if not weight >= 0 or weight == float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {weight!r}")
    return float(weight)


class OrderAwareSentenceLoss(nn.Module):
    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        distill_weight: float = 1.0,
        teacher: nn.Module | None = None,
        positive_view: PositiveView = "auto",
        pull_weight: float = 0.0,
    ) -> None:
        """
        Make sentence vectors sensitive to word order without losing the backbone's sentence geometry.

        Two terms, returned as named parts:

        - ``contrastive``: InfoNCE where the anchor is the sentence's vector, the positive is a second view of the
          same sentence, and the negatives are its own word-swapped / shuffled copies (hard negatives, from
          :func:`perturb_word_order`) plus every other sentence and copy in the batch. A mean-pooled bag of words
          gives a copy the same vector as the original, so this term is what teaches order.
        - ``distill``: ``distill_weight`` times the MSE between the student's in-batch cosine matrix of the
          original sentences and the frozen teacher's (the raw backbone), in the spirit of Reimers & Gurevych
          2020. It keeps which sentences are close to which, so STS-style quality does not regress while the
          contrastive term moves things. Plus ``pull_weight`` times the mean ``1 - cos(student, teacher)`` of the
          original sentences (student and teacher in the same space): it holds each natural sentence near the
          backbone's vector of it, so the order signal has to move the reordered copies instead.

        The positive view (``positive_view``):

        - ``"teacher"``: the teacher's vector of the sentence. Sound only when student and teacher vectors live in
          the same space: a TokenEmbedder's sentence vectors are its backbone's pooled output, and the teacher is
          the frozen backbone. ``"auto"`` picks it whenever a teacher is given and the dims match, so when the
          student's vectors pass through a projection of the same size (e.g. ``to_sentence_transformer(space="token")``,
          through the token head), set ``positive_view="dropout"`` explicitly.
        - ``"dropout"``: a second forward pass of the same sentence under dropout (SimCSE); needs train mode and
          dropout in the model.
        - ``"detached"``: the anchor's own vector, detached. Its logit is the constant ``scale``, so the term only
          pushes the negatives (above all the perturbed copies) below the sentence itself; the distillation term
          keeps the rest of the geometry from drifting.
        - ``"auto"`` (default): teacher if its dim matches, else dropout when the model is training, else detached.

        Args:
            model: SentenceTransformer (or TokenEmbedder) whose sentence vectors are trained.
            scale: Inverse temperature of the cosine logits.
            distill_weight: Weight of the distillation term (>= 0; 0 disables it).
            teacher: Frozen SentenceTransformer giving the reference geometry (normally the raw backbone). Without
                it the distillation term is 0.
            positive_view: How the positive is made; see above.
            pull_weight: Weight of the pull towards the teacher's vectors (>= 0; 0 disables it). Needs student
                and teacher vectors of the same dim.

        References:
            - Reimers & Gurevych 2020, Making Monolingual Sentence Embeddings Multilingual using Knowledge
              Distillation: https://arxiv.org/abs/2004.09813
            - Gao et al. 2021, SimCSE (dropout views as positives): https://arxiv.org/abs/2104.08821

        Requirements:
            1. (sentence, perturbed_1, ..., perturbed_k) tuples, k >= 1, all rows with the same k.

        Inputs:
            +-------------------------------------------------+--------+
            | Inputs                                          | Labels |
            +=================================================+========+
            | (sentence, perturbed_1, ..., perturbed_k)       | none   |
            +-------------------------------------------------+--------+

        Relations:
            - sentence-transformers' ``MSELoss`` distils the vectors themselves; here only the cosine matrix is
              matched, which lets the student's space rotate or change dimension.
            - :class:`MultiNegativeRankingLoss` is the contrastive term with mined (not generated) negatives.

        Example:
            ::

                import random
                from datasets import Dataset
                from hf_tokenembed.losses import OrderAwareSentenceLoss, perturb_word_order

                rng = random.Random(0)
                sentences = ["the dog bit the man", "she sold the old car"]
                copies = [perturb_word_order(s, k=2, rng=rng) for s in sentences]
                train_dataset = Dataset.from_dict({
                    "sentence": sentences,
                    "perturbed_1": [c[0] for c in copies],
                    "perturbed_2": [c[1] for c in copies],
                })
                loss = OrderAwareSentenceLoss(model, teacher=raw_backbone_sentence_transformer)
                trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=loss)
                trainer.train()
        """
        super().__init__()
        self.model = model
        self.scale = check_scale(scale)
        self.distill_weight = _check_weight(distill_weight, "distill_weight")
        self.pull_weight = _check_weight(pull_weight, "pull_weight")
        if teacher is not None and not isinstance(teacher, nn.Module):
            raise TypeError(f"`teacher` must be a SentenceTransformer or None, got {type(teacher).__name__}")
        self.teacher = teacher
        if teacher is not None:
            teacher.requires_grad_(False)
        if positive_view not in ("auto", "teacher", "dropout", "detached"):
            raise ValueError(
                f"`positive_view` must be 'auto', 'teacher', 'dropout' or 'detached', got {positive_view!r}"
            )
        if positive_view == "teacher" and teacher is None:
            raise ValueError("`positive_view`='teacher' needs a `teacher`")
        self.positive_view = positive_view

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The named parts (``contrastive``, ``distill``), which sum to the total (the trainer sums dict parts)."""
        sentence_features = list(sentence_features)
        if len(sentence_features) < 2:
            raise ValueError("`sentence_features` must hold the sentence column and at least one perturbed column")
        clean_features = dict(sentence_features[0])  # the model writes its outputs into the dicts it is given
        embeddings = embed_columns(self.model, sentence_features, output="pooled")
        anchor, perturbed = embeddings[0], torch.stack(embeddings[1:], dim=1)
        teacher_anchor = None
        if self.teacher is not None:
            with torch.no_grad():
                teacher_anchor = embed_features(self.teacher, dict(clean_features), output="pooled")
        positive = None
        view = self._resolve_view(anchor, teacher_anchor)
        if view == "teacher":
            positive = teacher_anchor
        elif view == "dropout":
            positive = embed_features(self.model, dict(clean_features), output="pooled")
        parts = self.compute_loss_from_embeddings(anchor, perturbed, positive=positive, teacher_anchor=teacher_anchor)
        parts.pop("loss")
        return parts

    def _resolve_view(self, anchor: Tensor, teacher_anchor: Tensor | None) -> str:
        if self.positive_view != "auto":
            if self.positive_view == "teacher" and teacher_anchor is not None and teacher_anchor.shape != anchor.shape:
                raise ValueError(
                    f"`positive_view`='teacher' needs teacher vectors of the student's dim {anchor.shape[-1]}, "
                    f"got {teacher_anchor.shape[-1]}"
                )
            return self.positive_view
        if teacher_anchor is not None and teacher_anchor.shape == anchor.shape:
            return "teacher"
        if self.model.training and any(isinstance(m, nn.Dropout) and m.p > 0 for m in self.model.modules()):
            return "dropout"
        return "detached"

    def compute_loss_from_embeddings(
        self,
        anchor: Tensor,
        perturbed: Tensor,
        *,
        positive: Tensor | None = None,
        teacher_anchor: Tensor | None = None,
        extra_anchor: Tensor | None = None,
        extra_teacher: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """The named parts from embeddings.

        Args:
            anchor: `(B, d)` vectors of the original sentences.
            perturbed: `(B, k, d)` vectors of each sentence's reordered copies.
            positive: `(B, d)` second view of each sentence; None uses the detached anchor.
            teacher_anchor: `(B, h)` frozen teacher vectors of the original sentences; None skips distillation.
            extra_anchor: `(M, d)` vectors of more sentences (without copies) that join only the distillation, so
                it sees more pairs per step; needs `extra_teacher` `(M, h)`, their teacher vectors.

        Returns:
            ``{"contrastive", "distill", "loss"}`` where ``distill`` (cosine-matrix MSE plus pull) is already
            weighted and ``loss = contrastive + distill``.
        """
        if not isinstance(anchor, Tensor) or anchor.ndim != 2:
            raise ValueError(
                f"`anchor` must be a (B, d) tensor, got {getattr(anchor, 'shape', type(anchor).__name__)}"
            )
        batch, dim = anchor.shape
        if (
            not isinstance(perturbed, Tensor)
            or perturbed.ndim != 3
            or perturbed.shape[0] != batch
            or perturbed.shape[2] != dim
        ):
            raise ValueError(
                f"`perturbed` must be a ({batch}, k, {dim}) tensor, got {getattr(perturbed, 'shape', type(perturbed).__name__)}"
            )
        if perturbed.shape[1] < 1:
            raise ValueError("`perturbed` must hold at least one copy per sentence (k >= 1)")
        if positive is None:
            positive = anchor.detach()
        elif not isinstance(positive, Tensor) or tuple(positive.shape) != (batch, dim):
            raise ValueError(f"`positive` must have shape {(batch, dim)}, got {getattr(positive, 'shape', None)}")
        keys = torch.cat([positive, perturbed.reshape(-1, dim)], dim=0)
        targets = torch.arange(batch, device=anchor.device)
        contrastive = masked_info_nce(anchor, keys, targets, scale=self.scale)

        distill = anchor.new_zeros(()).float()
        if teacher_anchor is not None:
            if not isinstance(teacher_anchor, Tensor) or teacher_anchor.ndim != 2 or teacher_anchor.shape[0] != batch:
                raise ValueError(
                    f"`teacher_anchor` must be a ({batch}, h) tensor, got {getattr(teacher_anchor, 'shape', None)}"
                )
            students, teachers = anchor, teacher_anchor
            if (extra_anchor is None) != (extra_teacher is None):
                raise ValueError("`extra_anchor` and `extra_teacher` must be given together")
            if extra_anchor is not None:
                if (
                    extra_anchor.ndim != 2
                    or extra_anchor.shape[1] != dim
                    or extra_teacher.shape != (extra_anchor.shape[0], teacher_anchor.shape[1])
                ):
                    raise ValueError(
                        f"`extra_anchor` must be (M, {dim}) and `extra_teacher` (M, {teacher_anchor.shape[1]}), "
                        f"got {tuple(extra_anchor.shape)} and {tuple(extra_teacher.shape)}"
                    )
                students = torch.cat([anchor, extra_anchor.to(anchor)])
                teachers = torch.cat([teacher_anchor, extra_teacher.to(teacher_anchor)])
            if self.distill_weight > 0:
                distill = self.distill_weight * relational_distillation(students, teachers)
            if self.pull_weight > 0:
                if teachers.shape != students.shape:
                    raise ValueError(
                        f"`pull_weight` needs teacher vectors of the student's dim {dim}, got {teachers.shape[1]}"
                    )
                cosines = F.cosine_similarity(students, teachers.detach().to(students), dim=-1)
                distill = distill + self.pull_weight * (1 - cosines).mean()
        return {"contrastive": contrastive, "distill": distill, "loss": contrastive + distill}

    def get_config_dict(self) -> dict[str, Any]:
        teacher = None if self.teacher is None else type(self.teacher).__name__
        card = getattr(self.teacher, "model_card_data", None)
        if card is not None and getattr(card, "base_model", None):
            teacher = card.base_model
        return {
            "scale": self.scale,
            "distill_weight": self.distill_weight,
            "pull_weight": self.pull_weight,
            "teacher": teacher,
            "positive_view": self.positive_view,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{reimers-2020-multilingual-sentence-bert,
    title = "Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2020",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/2004.09813",
}
"""
