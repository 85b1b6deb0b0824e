"""Model classes of hf_tokenembed."""

from __future__ import annotations

from .placer import Placer, PlacerConfig
from .selector import Selector, SelectorConfig
from .token_embedder import TokenEmbedder, TokenEmbedderConfig

__all__ = ["Placer", "PlacerConfig", "Selector", "SelectorConfig", "TokenEmbedder", "TokenEmbedderConfig"]
