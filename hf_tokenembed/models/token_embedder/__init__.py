"""The TokenEmbedder model (self-contained, so it can travel to the hub as remote code)."""

from __future__ import annotations

from .configuration import TokenEmbedderConfig
from .modeling import TokenEmbedder, TokenEmbedderOutput, TokenHead

__all__ = ["TokenEmbedder", "TokenEmbedderConfig", "TokenEmbedderOutput", "TokenHead"]
