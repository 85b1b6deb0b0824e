"""The controller's training data: sentences as entries, their imitation states, and every state's vectors.

`build_controller_data` segments sentences with a reconstruction vocabulary (only sentences every token of which
is an entry can be rebuilt exactly, so only they teach), draws oracle states (`imitation.oracle_states`), and
looks up each sentence's target vector and each state's summary (the sentence vector of its partial text) in one
`SentenceVectorCache` (a complete buffer's text is often its sentence: encoded once). `add_states` appends
rolled-in states (DAgger) with the summaries their decode computed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from .imitation import ImitationStates, oracle_states
from .sentence_cache import SentenceVectorCache

logger = logging.getLogger(__name__)

__all__ = ["ControllerData", "EntryVocabulary", "build_controller_data"]


class EntryVocabulary(Protocol):
    """What the controller's training needs of a reconstruction vocabulary (`controller.ReconstructionVocabulary`)."""

    keys: torch.Tensor

    def segment(self, sentence: str) -> Any: ...

    def detokenize(self, ids: list[int]) -> str: ...


@dataclass
class ControllerData:
    """States with their vectors.

    Args:
        states: The imitation states.
        targets: `(sentences, sentence_dim)` target vector of each sentence.
        summaries: `(states, sentence_dim)` sentence vector of each state's partial text (zeros when empty).
        keys: `(entries, token_dim)` entry keys.
        texts: The sentences.
    """

    states: ImitationStates
    targets: torch.Tensor
    summaries: torch.Tensor
    keys: torch.Tensor
    texts: list[str]

    def add_states(self, states: ImitationStates, summaries: torch.Tensor) -> None:
        """Append `states` (over the same sentences) and their `(len(states), sentence_dim)` summaries."""
        if summaries.shape != (len(states), self.summaries.shape[1]):
            raise ValueError(
                f"`summaries` has shape {tuple(summaries.shape)}, expected ({len(states)}, {self.summaries.shape[1]})"
            )
        self.states.extend(states)
        self.summaries = torch.cat([self.summaries, summaries.to(self.summaries.dtype)])


def build_controller_data(
    embedder,
    vocabulary: EntryVocabulary,
    sentences: list[str],
    cache_dir: str | os.PathLike,
    *,
    states_per_sentence: int = 6,
    max_entries: int = 40,
    seed: int = 0,
    progress: bool = True,
) -> ControllerData:
    """Segment `sentences`, keep those fully covered with 1..`max_entries` entries, draw their oracle states and
    encode targets and summaries (one cache at `cache_dir`)."""
    kept, ids = [], []
    for sentence in dict.fromkeys(sentences):
        segmentation = vocabulary.segment(sentence)
        if segmentation.covered and 1 <= len(segmentation.ids) <= max_entries:
            kept.append(sentence)
            ids.append(list(segmentation.ids))
    if not kept:
        raise ValueError("no sentence of `sentences` is fully covered by the vocabulary within `max_entries`")
    logger.info("Controller sentences: %d of %d are covered and short enough", len(kept), len(sentences))
    states = oracle_states(ids, states_per_sentence, seed=seed)
    partial = [vocabulary.detokenize(buffer) for buffer in states.buffers]
    cache = SentenceVectorCache.build(embedder, kept + [t for t in partial if t], cache_dir, progress=progress)
    summaries = torch.zeros((len(states), embedder.sentence_dim))
    rows = [i for i, buffer in enumerate(states.buffers) if buffer]
    summaries[rows] = cache.vectors[[cache.row(partial[i]) for i in rows]]
    return ControllerData(states, cache.vectors[[cache.row(s) for s in kept]], summaries, vocabulary.keys, kept)
