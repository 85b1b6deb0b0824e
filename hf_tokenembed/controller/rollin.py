"""Roll-in (DAgger): the states a trained controller visits when it decodes training sentences itself.

Oracle states only show buffers the model would reach by never erring; decoding a training sentence greedily
and keeping every buffer on the way shows it its own mistakes. Each visited buffer is aligned with the sentence
(`training.imitation.align`), so its targets stay defined: the sentence's entries not (aligned) in it are missing,
and each may go between its aligned neighbours. Decoding re-embeds every buffer it writes, so each state's summary
comes with it: roll-in costs no encoder forwards beyond the decode's own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch

from hf_tokenembed.training.imitation import ImitationStates, align

from .reconstructor import Reconstructor

logger = logging.getLogger(__name__)

__all__ = ["rollin_states"]


def rollin_states(
    reconstructor: Reconstructor,
    sentences: list[list[int]],
    targets,
    which: Sequence[int],
    *,
    top_k: int = 16,
    batch_size: int = 64,
) -> tuple[ImitationStates, torch.Tensor]:
    """Greedy decodes of `sentences[i]` for `i` in `which` (from `targets[i]`): every buffer before each step, and
    `(states, sentence_dim)` summaries (the decode's re-embedded buffers; zeros for the empty one)."""
    states = ImitationStates(sentences)
    summaries: list[torch.Tensor] = []
    ids = reconstructor.vocabulary.segmenter.ids
    which = list(which)
    hypotheses = reconstructor.hypotheses(
        targets[which], num_beams=1, top_k=top_k, verifier=False, batch_size=batch_size
    )
    empty = torch.zeros(reconstructor.sentence_dim)
    for sentence, hypothesis in zip(which, hypotheses):
        buffer: list[int] = []
        summary = empty
        for step in hypothesis.steps:
            states.add(sentence, buffer, align(sentences[sentence], buffer))
            summaries.append(summary)
            if step["action"] == "stop":
                break
            buffer = buffer[: step["slot"]] + [ids[step["entry"]]] + buffer[step["slot"] :]
            summary = step["summary"]
        else:
            states.add(sentence, buffer, align(sentences[sentence], buffer))
            summaries.append(summary)
    logger.info("Rolled in %d states from %d sentences", len(states), len(which))
    return states, torch.stack(summaries)
