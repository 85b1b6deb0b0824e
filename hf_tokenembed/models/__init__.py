"""Model classes of hf_tokenembed."""

from __future__ import annotations

from .placer import Placer, PlacerConfig
from .reconstructor import TextReconstructor, TextReconstructorConfig
from .selector import Selector, SelectorConfig
from .token_embedder import TokenEmbedder, TokenEmbedderConfig

__all__ = [
    "Placer",
    "PlacerConfig",
    "Selector",
    "SelectorConfig",
    "TextReconstructor",
    "TextReconstructorConfig",
    "TokenEmbedder",
    "TokenEmbedderConfig",
]
