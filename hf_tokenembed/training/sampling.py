"""Seeded sampling per micro-batch, shared by the trainers that draw their own batches inside `compute_loss`."""

from __future__ import annotations

import numpy as np

__all__ = ["MicroBatchSeeder"]


class MicroBatchSeeder:
    """The random generator of each micro-batch: seeded by the run seed, the optimizer step and the micro-batch within
    the step (under gradient accumulation each draws its own sample), so a resumed run draws what the uninterrupted
    one would have, and every process of a data-parallel run draws the same (`training.distributed`)."""

    def __init__(self) -> None:
        self._last = (-1, 0)  # (optimizer step, micro-batch within it)

    def rng(self, seed: int, step: int) -> np.random.Generator:
        last_step, micro = self._last
        micro = micro + 1 if step == last_step else 0
        self._last = (step, micro)
        return np.random.default_rng([seed, step, micro])
