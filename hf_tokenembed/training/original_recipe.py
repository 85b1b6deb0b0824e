"""The original stage-1 recipe, kept as a baseline (`--recipe original`).

It is reproduced on purpose, flaws included: each word is its own positive (`z_pos = embeds`), so the only signal
is to push it from its current nearest neighbour (one hard negative, no false-negative guard, often a synonym or an
inflection); the "orthogonality" penalty asks the `hidden × hidden` Gram matrix of a `out × hidden` projection to be
the identity, which its rank (≤ out < hidden) forbids; CLS pooling and a cosine schedule sized in micro-steps
are set by the preset and the trainer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["OriginalRecipeLoss"]


class OriginalRecipeLoss(nn.Module):
    """Self-positive InfoNCE against the nearest neighbour, plus the original orthogonality penalty.

    Args:
        model: The `TokenEmbedder` being trained.
        temperature: Softmax temperature of the original recipe.
        orthogonality_weight: Weight of `||WᵀW - I||²` on the head's output projection `W` (`out × hidden`).
    """

    def __init__(self, model: nn.Module, temperature: float = 0.05, orthogonality_weight: float = 0.01):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature!r}")
        self.model = model
        self.temperature = temperature
        self.orthogonality_weight = orthogonality_weight

    def compute_loss_from_embeddings(
        self, anchor: torch.Tensor, nearest: torch.Tensor, head: nn.Module | None
    ) -> dict[str, torch.Tensor]:
        """`anchor` (B, d) word vectors, `nearest` (B, d) their current nearest neighbours, `head` the MLP head."""
        positive = (anchor * anchor).sum(-1)  # the word itself: always 1
        negative = (anchor * nearest).sum(-1)
        logits = torch.stack([positive, negative], dim=1) / self.temperature
        contrastive = F.cross_entropy(logits, torch.zeros(len(anchor), dtype=torch.long, device=anchor.device))
        parts = {"self_positive": contrastive}
        if head is not None:
            weight = head.out.weight  # (out, hidden)
            gram = weight.T @ weight
            parts["orthogonality"] = ((gram - torch.eye(len(gram), device=gram.device)) ** 2).mean()
        parts["loss"] = contrastive + self.orthogonality_weight * parts.get("orthogonality", 0.0)
        return parts

    def get_config_dict(self) -> dict[str, float]:
        return {"temperature": self.temperature, "orthogonality_weight": self.orthogonality_weight}
