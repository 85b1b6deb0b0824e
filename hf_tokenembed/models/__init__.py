"""Model classes of hf_tokenembed."""

from __future__ import annotations

from .token_embedder import TokenEmbedder, TokenEmbedderConfig

__all__ = ["TokenEmbedder", "TokenEmbedderConfig"]
