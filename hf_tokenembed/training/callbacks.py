"""Trainer callbacks of the stage-1 run."""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch import Tensor
from transformers import TrainerCallback

from hf_tokenembed.losses import HardNegativeMiner

logger = logging.getLogger(__name__)

__all__ = ["HardNegativeRefreshCallback"]


class HardNegativeRefreshCallback(TrainerCallback):
    """Re-embed the vocabulary with `encode_fn()` and rebuild the miner's index on train begin and every n steps.

    Args:
        miner: The :class:`HardNegativeMiner` to refresh.
        encode_fn: Returns the current `(V, d)` vocabulary vectors, e.g. `lambda: model.encode_words(vocab)`.
        every_n_steps: Steps between refreshes; defaults to `miner.refresh_every`.
    """

    def __init__(
        self, miner: HardNegativeMiner, encode_fn: Callable[[], Tensor], every_n_steps: int | None = None
    ) -> None:
        if not isinstance(miner, HardNegativeMiner):
            raise TypeError(f"`miner` must be a HardNegativeMiner, got {type(miner).__name__}")
        if not callable(encode_fn):
            raise TypeError(f"`encode_fn` must be callable, got {type(encode_fn).__name__}")
        every_n_steps = miner.refresh_every if every_n_steps is None else every_n_steps
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise ValueError(f"`every_n_steps` must be a positive int, got {every_n_steps!r}")
        self.miner = miner
        self.encode_fn = encode_fn
        self.every_n_steps = every_n_steps

    def _refresh(self, step: int) -> None:
        with torch.no_grad():
            vectors = self.encode_fn()
        self.miner.refresh(vectors)
        logger.info("refreshed hard-negative index at step %d (%d vectors)", step, self.miner.vocab_size)

    def on_train_begin(self, args, state, control, **kwargs):
        self._refresh(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step > 0 and state.global_step % self.every_n_steps == 0:
            self._refresh(state.global_step)
