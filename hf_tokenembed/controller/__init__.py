"""The controller: rebuild a text from its sentence vector (reconstruction vocabulary, Selector + Placer decoding)."""

from __future__ import annotations

from .reconstructor import Hypothesis, Reconstructor, check_vectors, replay_steps
from .rollin import rollin_states
from .vocabulary import ReconstructionVocabulary

__all__ = [
    "Hypothesis",
    "ReconstructionVocabulary",
    "Reconstructor",
    "check_vectors",
    "replay_steps",
    "rollin_states",
]
