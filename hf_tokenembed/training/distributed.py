"""Data parallelism that computes what one process computes: every process draws the step's whole batch, embeds its
own share of the rows, and the shares are exchanged, so each process evaluates the loss of the whole batch.

Gradients stay exact without any collective in the backward pass: the exchanged rows of other processes carry no
gradient, and the gradient through a process's own rows is multiplied by the number of processes, which the
average over processes that DDP takes divides out again. A parameter used after the exchange (on the whole batch)
gets the whole batch's gradient on every process, which that average leaves as it is.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

__all__ = ["gather_batch", "share_rows", "shares"]


class _ScaleGradient(torch.autograd.Function):
    """The identity forward; the gradient multiplied by `factor` backward."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad * ctx.factor, None


def shares(n: int, world_size: int) -> list[np.ndarray]:
    """The row positions `0..n-1` split into `world_size` consecutive shares (the first ones one row longer)."""
    return np.array_split(np.arange(n), world_size)


def share_rows(local: torch.Tensor, counts: list[int], rank: int) -> torch.Tensor:
    """The whole `(sum(counts), ...)` tensor of which this process (`rank`) computed `local`, its `counts[rank]`
    rows; the others' rows come from them, without gradient."""
    world_size = len(counts)
    if world_size == 1:
        return local
    longest = max(counts)
    padded = torch.zeros((longest, *local.shape[1:]), dtype=local.dtype, device=local.device)
    padded[: len(local)] = local.detach()
    parts = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(parts, padded)
    own = _ScaleGradient.apply(local, float(world_size))
    return torch.cat([own if r == rank else parts[r][: counts[r]] for r in range(world_size)])


def gather_batch(values: torch.Tensor, world_size: int) -> torch.Tensor:
    """Every process's `values` (1-D, any lengths), concatenated in process order: a step's whole batch."""
    if world_size == 1:
        return values
    gathered: list[torch.Tensor | None] = [None] * world_size
    dist.all_gather_object(gathered, values.cpu())
    return torch.cat(gathered)
