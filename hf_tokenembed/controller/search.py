"""Search by re-embedding: score partial texts by the cosine of their sentence vector to the target.

`embed_buffers` is the verifier (one batched encoder call for many hypotheses); `repair_by_moves` is the final
reordering pass (move one entry to another slot while the cosine rises); `cosine_insertion` builds a text from
candidate entries with no learned model at all (each step inserts the (entry, slot) whose text is closest to the
target). The last is what the no-learning and perfect-word-set baselines of the benchmarks run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = ["cosine_insertion", "embed_buffers", "repair_by_moves"]


def embed_buffers(embedder, vocabulary, buffers: Sequence[list[int]]) -> torch.Tensor:
    """`(len(buffers), sentence_dim)` sentence vectors of the buffers' texts (zeros for an empty buffer)."""
    out = torch.zeros((len(buffers), embedder.sentence_dim))
    rows = [i for i, buffer in enumerate(buffers) if buffer]
    if rows:
        texts = [vocabulary.detokenize(buffers[i]) for i in rows]
        out[rows] = embedder.encode_sentences(texts, batch_size=256, show_progress_bar=False)
    return out


def _moves(entries: list[int]) -> list[tuple[int, int, list[int]]]:
    """Every text made by moving one entry of `entries` to another slot, as `(from, to, entries)`: the entry at
    `from` taken out, then put at slot `to` of the rest."""
    out = []
    for i in range(len(entries)):
        rest = entries[:i] + entries[i + 1 :]
        out.extend((i, j, rest[:j] + [entries[i]] + rest[j:]) for j in range(len(rest) + 1) if j != i)
    return out


def repair_by_moves(
    embedder, vocabulary, entries: list[int], target: torch.Tensor, cosine: float, passes: int
) -> tuple[list[int], float, list[tuple[int, int, float]]]:
    """Up to `passes` times, apply the single move with the highest cosine if it beats the current one.

    Returns the entries, their cosine and the moves made, each `(from, to, cosine after it)`.
    """
    moves = []
    for _ in range(passes):
        candidates = _moves(entries)
        if not candidates:
            break
        cosines = embed_buffers(embedder, vocabulary, [c[2] for c in candidates]) @ target
        best = int(cosines.argmax())
        if float(cosines[best]) <= cosine + 1e-6:
            break
        source, slot, entries = candidates[best]
        cosine = float(cosines[best])
        moves.append((source, slot, cosine))
    return entries, cosine, moves


def cosine_insertion(
    embedder,
    vocabulary,
    target: torch.Tensor,
    candidates: Callable[[list[int], torch.Tensor], list[int]],
    *,
    max_steps: int,
    repair: int = 0,
    until_no_gain: bool = True,
) -> tuple[list[int], float]:
    """Greedy insertion by cosine: each step tries every entry of `candidates(buffer, summary)` at every slot and
    keeps the best text; it stops when no candidate is left, or (`until_no_gain`) when the cosine does not rise.
    Then `repair` passes of moves."""
    entries: list[int] = []
    summary = torch.zeros(embedder.sentence_dim)
    cosine = -1.0
    for _ in range(max_steps):
        options = [
            entries[:slot] + [e] + entries[slot:]
            for e in candidates(entries, summary)
            for slot in range(len(entries) + 1)
        ]
        if not options:
            break
        vectors = embed_buffers(embedder, vocabulary, options)
        cosines = vectors @ target
        best = int(cosines.argmax())
        if until_no_gain and float(cosines[best]) <= cosine + 1e-6:
            break
        entries, cosine, summary = options[best], float(cosines[best]), vectors[best]
    if repair:
        entries, cosine, _ = repair_by_moves(embedder, vocabulary, entries, target, cosine, repair)
    return entries, cosine
