"""hf_tokenembed: sense-aware token embeddings on E5-family encoders, as Hugging Face citizens.

Importing the package registers its models with `AutoConfig` / `AutoModel`.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel

from .models import TokenEmbedder, TokenEmbedderConfig

__version__ = "0.1.0"

__all__ = ["TokenEmbedder", "TokenEmbedderConfig", "__version__"]


def _register() -> None:
    """Register with the Auto classes, and mark the classes so `save_pretrained` ships them as remote code."""
    AutoConfig.register(TokenEmbedderConfig.model_type, TokenEmbedderConfig, exist_ok=True)
    AutoModel.register(TokenEmbedderConfig, TokenEmbedder, exist_ok=True)
    TokenEmbedderConfig.register_for_auto_class()
    TokenEmbedder.register_for_auto_class("AutoModel")


_register()
