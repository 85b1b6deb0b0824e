"""Roll-in (DAgger): the states a trained controller visits when it decodes training sentences itself.

Oracle states only show buffers the model would reach by never erring; decoding a training sentence greedily
and keeping every buffer on the way shows it its own mistakes. Each visited buffer is aligned with the sentence
(`training.imitation.align`), so its targets stay defined: the sentence's entries not (aligned) in it are missing,
and each may go between its aligned neighbours.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

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
) -> ImitationStates:
    """Greedy decodes of `sentences[i]` for `i` in `which` (from `targets[i]`): every buffer before each step."""
    states = ImitationStates(sentences)
    ids = reconstructor.vocabulary.segmenter.ids
    which = list(which)
    results = reconstructor.reconstruct(
        targets[which], num_beams=1, top_k=top_k, verifier=False, return_steps=True, batch_size=batch_size
    )
    for sentence, result in zip(which, results):
        buffer: list[int] = []
        for step in result["steps"]:
            states.add(sentence, buffer, align(sentences[sentence], buffer))
            if step["entry"] is None:  # STOP
                break
            buffer = buffer[: step["slot"]] + [ids[step["entry"]]] + buffer[step["slot"] :]
        else:
            states.add(sentence, buffer, align(sentences[sentence], buffer))
    logger.info("Rolled in %d states from %d sentences", len(states), len(which))
    return states
