"""Selector: the query tower of a bi-encoder over the reconstruction vocabulary.

Given the target sentence vector and the state of the partial text (its re-embedded summary, the residual, the
mean of its entries' keys and its length), it predicts an intention vector in the token space. Entries are scored
against their frozen keys (the `TokenEmbedder.encode_words` vectors, stored here in fp16) with a full softmax plus a
learned per-entry bias (frequent function words are the easy, sure part); FAISS does the same search at inference
(`search_keys`). Trained as multiset prediction: every entry still missing from the text is a positive.

This file imports only torch, transformers and its siblings, so it travels to the hub as remote code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration import SelectorConfig

__all__ = ["Selector", "SelectorOutput", "SelectorPreTrainedModel"]


@dataclass
class SelectorOutput(ModelOutput):
    """Output of [`Selector.forward`].

    Args:
        loss: Multiset cross-entropy against `labels` (when given).
        logits: `(batch, num_entries)` scores of every entry.
        intention: `(batch, token_dim)` L2-normalised intention vectors.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    intention: torch.FloatTensor | None = None


class SelectorPreTrainedModel(PreTrainedModel):
    config_class = SelectorConfig
    base_model_prefix = "selector"
    main_input_name = "target"
    _keys_to_ignore_on_load_missing = ["entry_keys"]  # a bundle stores the keys once, beside its vocabulary

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class Selector(SelectorPreTrainedModel):
    """Intention vector of the next entry from (target, summary, residual, buffer mean, buffer length).

    Example:
        ```python
        >>> from hf_tokenembed import Selector, SelectorConfig
        >>> selector = Selector(SelectorConfig(num_entries=5))
        >>> selector.set_entry_keys(torch.nn.functional.normalize(torch.randn(5, 384), dim=-1))
        >>> out = selector(target=torch.randn(2, 384), summary=torch.zeros(2, 384))
        >>> out.logits.shape
        torch.Size([2, 5])
        ```
    """

    def __init__(self, config: SelectorConfig):
        super().__init__(config)
        in_dim = 3 * config.sentence_dim + config.token_dim + 1
        layers: list[nn.Module] = []
        for i in range(config.num_layers):
            layers += [nn.Linear(in_dim if i == 0 else config.hidden_size, config.hidden_size), nn.GELU()]
            layers += [nn.LayerNorm(config.hidden_size), nn.Dropout(config.dropout)]
        layers.append(nn.Linear(config.hidden_size, config.token_dim))
        self.tower = nn.Sequential(*layers)
        self.entry_bias = nn.Parameter(torch.zeros(config.num_entries))
        self.log_scale = nn.Parameter(torch.tensor(math.log(config.scale)))
        self.register_buffer("entry_keys", torch.zeros(config.num_entries, config.token_dim, dtype=torch.float16))
        self.post_init()

    def set_entry_keys(self, keys: torch.Tensor) -> None:
        """Store the entries' frozen keys `(num_entries, token_dim)` (L2-normalised here, kept in fp16)."""
        if not isinstance(keys, torch.Tensor) or tuple(keys.shape) != tuple(self.entry_keys.shape):
            raise ValueError(
                f"`keys` must be a tensor of shape {tuple(self.entry_keys.shape)}, got {getattr(keys, 'shape', keys)}"
            )
        if not torch.isfinite(keys).all() or (keys.norm(dim=-1) == 0).any():
            raise ValueError("`keys` must be finite and non-zero")
        self.entry_keys.copy_(F.normalize(keys.float(), dim=-1).to(self.entry_keys.dtype))

    def intention(
        self,
        target: torch.Tensor,
        summary: torch.Tensor,
        buffer_mean: torch.Tensor | None = None,
        buffer_length: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`(B, token_dim)` L2-normalised intention vectors."""
        batch = target.shape[0]
        if buffer_mean is None:
            buffer_mean = target.new_zeros((batch, self.config.token_dim))
        if buffer_length is None:
            buffer_length = target.new_zeros((batch,))
        features = [target, summary, target - summary, buffer_mean]
        length = buffer_length.to(target.dtype).unsqueeze(-1) / self.config.max_entries
        return F.normalize(self.tower(torch.cat([*features, length], dim=-1)), dim=-1)

    def forward(
        self,
        target: torch.Tensor,
        summary: torch.Tensor,
        buffer_mean: torch.Tensor | None = None,
        buffer_length: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> SelectorOutput | tuple:
        """Score every entry.

        `labels`: `(B, num_entries)` counts of the entries still missing (a multiset). The loss is the cross-entropy
        against those counts normalised per row, summed over rows and divided by `B`; a row without any (a complete
        text) adds nothing, so the loss of a batch split in two is the mean of the halves' losses.
        """
        intention = self.intention(target, summary, buffer_mean, buffer_length)
        logits = self.log_scale.exp() * intention @ self.entry_keys.to(intention.dtype).T + self.entry_bias
        loss = None
        if labels is not None:
            if labels.shape != logits.shape or (labels < 0).any():
                raise ValueError(f"`labels` must be non-negative counts of shape {tuple(logits.shape)}")
            mass = labels.sum(-1, keepdim=True)
            targets = labels.to(logits.dtype) / mass.clamp(min=1e-12)  # a row without mass adds nothing
            loss = -(targets * F.log_softmax(logits, dim=-1)).sum() / len(logits)
        output = SelectorOutput(loss=loss, logits=logits, intention=intention)
        return output if return_dict is not False else output.to_tuple()

    def search_keys(self) -> torch.Tensor:
        """`(num_entries, token_dim + 1)`: keys scaled and extended by the bias, so that the inner product with
        `[intention, 1]` is exactly the logit (what a FAISS inner-product index searches)."""
        scale = self.log_scale.exp().detach()
        return torch.cat([self.entry_keys.float() * scale, self.entry_bias.detach().float().unsqueeze(-1)], dim=-1)
