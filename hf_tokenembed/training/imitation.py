"""Imitation states for the controller: partial texts of training sentences, and what each one still misses.

A state is a sentence (its target vector) and a buffer: some of its entries, in their relative order. From the
oracle, buffers are random subsets of every size (the empty one, which starts every text, and the complete one,
which teaches STOP, included). Rolled in from the model's own decoding (DAgger), a buffer may also hold wrong or
misplaced entries: it is aligned with the sentence (longest common subsequence), and the aligned entries fix
where each missing entry may go. Targets are computed here, once:

- Selector: the multiset of the sentence's entries not yet in the buffer (every one is a positive);
- Placer: for each missing entry, the slots between its aligned neighbours (uniform over all valid pairs), or
  STOP when nothing is missing.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["ImitationStates", "align", "missing_entries", "oracle_states", "slot_targets"]


@dataclass
class ImitationStates:
    """States over a list of sentences (entry ids each).

    Args:
        sentences: Per sentence, its entry ids in order.
        sentence_of: Per state, the index of its sentence.
        buffers: Per state, the buffer's entry ids in order.
        positions: Per state, each buffer entry's position in its sentence (-1: not aligned, a wrong entry).
    """

    sentences: list[list[int]]
    sentence_of: list[int] = field(default_factory=list)
    buffers: list[list[int]] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.buffers)

    def add(self, sentence: int, buffer: Sequence[int], positions: Sequence[int]) -> None:
        if len(buffer) != len(positions):
            raise ValueError(f"`buffer` has {len(buffer)} entries but `positions` {len(positions)}")
        self.sentence_of.append(int(sentence))
        self.buffers.append([int(e) for e in buffer])
        self.positions.append([int(p) for p in positions])

    def extend(self, other: ImitationStates) -> None:
        """Append `other`'s states (over the same sentences)."""
        if other.sentences is not self.sentences and other.sentences != self.sentences:
            raise ValueError("`other` is over other sentences")
        for s, b, p in zip(other.sentence_of, other.buffers, other.positions):
            self.add(s, b, p)

    def missing(self, state: int) -> list[int]:
        """Entry ids of the sentence not yet (aligned) in the buffer, as a multiset list."""
        return missing_entries(self.sentences[self.sentence_of[state]], self.positions[state])

    def slots(self, state: int) -> list[tuple[int, int]]:
        """`(entry id, slot)` pairs that are correct next insertions (empty when the text is complete)."""
        return slot_targets(self.sentences[self.sentence_of[state]], self.positions[state])


def missing_entries(sentence: Sequence[int], positions: Sequence[int]) -> list[int]:
    placed = {p for p in positions if p >= 0}
    return [entry for position, entry in enumerate(sentence) if position not in placed]


def slot_targets(sentence: Sequence[int], positions: Sequence[int]) -> list[tuple[int, int]]:
    """Every `(entry, slot)` that inserts a missing entry between its aligned neighbours.

    Slot `i` is before buffer item `i` (slot `len(buffer)` is the end). A missing entry at sentence position `m`
    may go anywhere after the last aligned item placed before `m` and before the first aligned item placed after
    it; unaligned (wrong) items in between do not constrain it. Duplicate pairs are kept once.
    """
    pairs = []
    placed = {p for p in positions if p >= 0}
    for m, entry in enumerate(sentence):
        if m in placed:
            continue
        low = max((i + 1 for i, p in enumerate(positions) if 0 <= p < m), default=0)
        high = min((i for i, p in enumerate(positions) if p > m), default=len(positions))
        pairs.extend((entry, slot) for slot in range(low, high + 1))
    return list(dict.fromkeys(pairs))


def align(sentence: Sequence[int], buffer: Sequence[int]) -> list[int]:
    """Sentence position of each buffer item along a longest common subsequence (-1: not aligned)."""
    n, m = len(buffer), len(sentence)
    table = np.zeros((n + 1, m + 1), dtype=np.int32)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i, j] = (
                table[i + 1, j + 1] + 1 if buffer[i] == sentence[j] else max(table[i + 1, j], table[i, j + 1])
            )
    positions, i, j = [-1] * n, 0, 0
    while i < n and j < m:
        if buffer[i] == sentence[j]:
            positions[i] = j
            i, j = i + 1, j + 1
        elif table[i + 1, j] >= table[i, j + 1]:
            i += 1
        else:
            j += 1
    return positions


def oracle_states(sentences: list[list[int]], per_sentence: int, *, seed: int = 0) -> ImitationStates:
    """Per sentence: the empty buffer, the complete one, and `per_sentence - 2` random subsets of random sizes
    (each entry kept in its relative order)."""
    if isinstance(per_sentence, bool) or not isinstance(per_sentence, int) or per_sentence < 2:
        raise ValueError(
            f"`per_sentence` must be an int >= 2 (the empty and the complete buffer), got {per_sentence!r}"
        )
    rng = random.Random(seed)
    states = ImitationStates(sentences)
    for s, entries in enumerate(sentences):
        n = len(entries)
        sizes = [0, n] + [rng.randint(1, max(1, n - 1)) for _ in range(per_sentence - 2)]
        for size in sizes:
            kept = sorted(rng.sample(range(n), size))
            states.add(s, [entries[p] for p in kept], kept)
    logger.info(
        "Oracle states: %d over %d sentences (%s)",
        len(states),
        len(sentences),
        Counter(map(len, states.buffers)).most_common(3),
    )
    return states
