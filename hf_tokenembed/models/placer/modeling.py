"""Placer: a small insertion transformer that picks one (candidate, slot) pair, or STOP.

The sequence it reads is ``[context] [bos] buffer entries [eos] candidates``: the context token carries the target
vector, the summary of the partial text and their difference; buffer entries are their keys plus positions;
candidates (from the Selector and FAISS) are their keys plus their rank. A buffer of `n` entries has `n + 1`
slots, slot `i` being made from the two adjacent states (as in insertion decoders); every (candidate, slot) pair
gets a score, and a dedicated STOP head scores ending the text. One softmax covers all of them. Padding is never
chosen and STOP is only possible from a non-empty buffer.

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

from .configuration import PlacerConfig

__all__ = ["Placer", "PlacerOutput", "PlacerPreTrainedModel"]

MAX_CANDIDATES = 128


@dataclass
class PlacerOutput(ModelOutput):
    """Output of [`Placer.forward`].

    Args:
        loss: Cross-entropy against the soft `labels` (when given).
        logits: `(batch, K * (N + 1) + 1)` scores of every action: candidate `k` at slot `i` is
            `k * (N + 1) + i`, STOP is the last; invalid actions are `-inf`.
        action_logits: `(batch, K, N + 1)` the same (candidate, slot) scores.
        stop_logits: `(batch,)` the STOP scores.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    action_logits: torch.FloatTensor | None = None
    stop_logits: torch.FloatTensor | None = None


class PlacerPreTrainedModel(PreTrainedModel):
    config_class = PlacerConfig
    base_model_prefix = "placer"
    main_input_name = "target"

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def _without_key_part(gradient: torch.Tensor) -> torch.Tensor:
    """The gradient of an attention's `in_proj_bias` (query, key, value) with the key's third set to zero."""
    query, key, value = gradient.chunk(3)
    return torch.cat([query, torch.zeros_like(key), value])


class Placer(PlacerPreTrainedModel):
    """Scores (candidate, slot) insertions and STOP for a batch of partial texts."""

    def __init__(self, config: PlacerConfig):
        super().__init__(config)
        hidden = config.hidden_size
        self.context = nn.Linear(3 * config.sentence_dim, hidden)
        self.entry = nn.Linear(config.token_dim, hidden)
        self.positions = nn.Embedding(config.max_entries + 2, hidden)  # bos, entries, eos
        self.ranks = nn.Embedding(MAX_CANDIDATES, hidden)
        self.boundary = nn.Embedding(2, hidden)  # bos, eos
        layer = nn.TransformerEncoderLayer(
            hidden, config.num_heads, config.intermediate_size, config.dropout, activation="gelu",
            batch_first=True, norm_first=True,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        # The key's bias adds one score to all keys of a query, which softmax removes: its gradient is zero but for
        # rounding, which AdamW's first step would turn into updates of the whole learning rate. Not trained.
        for block in self.encoder.layers:
            block.self_attn.in_proj_bias.register_hook(_without_key_part)
        self.norm = nn.LayerNorm(hidden)
        self.slot = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.candidate = nn.Linear(hidden, hidden)
        self.stop = nn.Linear(hidden, 1)
        self.post_init()

    def forward(
        self,
        target: torch.Tensor,
        summary: torch.Tensor,
        buffer: torch.Tensor,
        buffer_mask: torch.Tensor,
        candidates: torch.Tensor,
        candidate_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> PlacerOutput | tuple:
        """Score every action.

        Args:
            target, summary: `(B, sentence_dim)`.
            buffer: `(B, N, token_dim)` keys of the buffer's entries, left-aligned; `buffer_mask` `(B, N)` marks
                the real ones (a prefix of each row).
            candidates: `(B, K, token_dim)` candidate keys, best first; `candidate_mask` `(B, K)` marks the real ones.
            labels: `(B, K * (N + 1) + 1)` soft targets over the actions (mass on invalid actions is an error).
        """
        batch, n_max, _ = buffer.shape
        k = candidates.shape[1]
        if n_max > self.config.max_entries:
            raise ValueError(f"`buffer` holds {n_max} entries; this Placer handles at most {self.config.max_entries}")
        if k > MAX_CANDIDATES:
            raise ValueError(f"`candidates` holds {k}; at most {MAX_CANDIDATES}")
        device = target.device
        buffer_mask = buffer_mask.bool()
        candidate_mask = (
            torch.ones((batch, k), dtype=torch.bool, device=device)
            if candidate_mask is None
            else candidate_mask.bool()
        )
        lengths = buffer_mask.sum(-1)  # (B,)
        steps = torch.arange(n_max + 2, device=device)

        context = self.context(torch.cat([target, summary, target - summary], dim=-1)).unsqueeze(1)
        bos = (self.boundary.weight[0] + self.positions.weight[0]).expand(batch, 1, -1)
        entries = self.entry(buffer) + self.positions(steps[1 : n_max + 1]).unsqueeze(0)
        eos = (self.boundary.weight[1] + self.positions(lengths + 1)).unsqueeze(1)
        ranked = self.entry(candidates) + self.ranks(torch.arange(k, device=device)).unsqueeze(0)
        tokens = torch.cat([context, bos, entries, eos, ranked], dim=1)
        ones = torch.ones((batch, 1), dtype=torch.bool, device=device)
        keep = torch.cat([ones, ones, buffer_mask, ones, candidate_mask], dim=1)
        hidden = self.norm(self.encoder(tokens, src_key_padding_mask=~keep))

        states = hidden[:, 1 : n_max + 3]  # bos, entries, eos
        slots = torch.arange(n_max + 1, device=device)
        right = torch.where(slots.unsqueeze(0) < lengths.unsqueeze(1), slots + 1, n_max + 1)  # (B, N + 1)
        left_states = states[:, : n_max + 1]
        right_states = torch.gather(states, 1, right.unsqueeze(-1).expand(-1, -1, states.shape[-1]))
        slot_vectors = self.slot(torch.cat([left_states, right_states], dim=-1))
        candidate_vectors = self.candidate(hidden[:, n_max + 3 :])
        action = torch.einsum("bkh,bsh->bks", candidate_vectors, slot_vectors) / math.sqrt(slot_vectors.shape[-1])
        valid = candidate_mask.unsqueeze(-1) & (slots.view(1, 1, -1) <= lengths.view(-1, 1, 1))
        action = action.masked_fill(~valid, -torch.inf)
        stop = self.stop(hidden[:, 0]).squeeze(-1).masked_fill(lengths == 0, -torch.inf)
        logits = torch.cat([action.reshape(batch, -1), stop.unsqueeze(-1)], dim=-1)
        loss = None
        if labels is not None:
            labels = labels.to(logits.dtype)
            if (labels[~torch.isfinite(logits)] > 0).any():
                raise ValueError(
                    "`labels` put mass on an invalid action (padding, a slot past the buffer, or STOP from empty)"
                )
            log_probs = F.log_softmax(logits, dim=-1).masked_fill(~torch.isfinite(logits), 0.0)
            loss = -(labels / labels.sum(-1, keepdim=True) * log_probs).sum(-1).mean()
        output = PlacerOutput(loss=loss, logits=logits, action_logits=action, stop_logits=stop)
        return output if return_dict is not False else output.to_tuple()
